// PII found by content: columns whose names say nothing but whose first rows hold e-mail
// addresses or IBANs stop the run before their data is restored, from a custom archive and from
// a plain SQL dump alike. The sample is the first rows of the stream, not the table.
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ident } from '../../src/infra/pg/connection.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  databasesLike,
  makeDumps,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

const PRODUCTION = `
  CREATE TABLE accounts (id bigint PRIMARY KEY, contact text, payout_ref text, label text);
  INSERT INTO accounts
    SELECT g, 'holder' || g || '@real-bank.example',
           (ARRAY['NL91ABNA0417164300', 'DE89370400440532013000', 'GB82WEST12345698765432'])[1 + g % 3],
           'plan ' || g
      FROM generate_series(1, 5000) g;
  CREATE TABLE audit (id bigint PRIMARY KEY, detail text);
  INSERT INTO audit SELECT g, 'event ' || g FROM generate_series(1, 1000) g;`;

describe('PII by sampled values', () => {
  let dumps: string;
  beforeAll(async () => {
    dumps = await tempDir('pii-values');
    await makeDumps(dumps, PRODUCTION, { 'prod.dump': 'c', 'prod.sql': 'p' });
  });

  it.each(['prod.dump', 'prod.sql'])(
    '%s: unruled columns holding e-mails and IBANs → exit 78, nothing swapped in',
    async (file) => {
      const dir = await tempDir('pii-values-run');
      const live = uniqueDb('pii_values');
      await sql('postgres', `CREATE DATABASE ${ident(live)}`);
      await sql(live, 'CREATE TABLE marker (id int); INSERT INTO marker VALUES (7)');
      const { config } = await writeTestConfig(dir, live, {
        source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
        anonymize: { secret: 's', unknownPii: 'fail', sampleRows: 50 },
      });
      await copyFile(join(dumps, file), join(dir, 'backups', file));
      const record = await runRefresh(config, quiet);
      expect(record.exitCode).toBe(78);
      expect(record.error?.message).toContain(
        'public.accounts.contact holds e-mail addresses (50 of 50 sampled values)',
      );
      expect(record.error?.message).toContain('public.accounts.payout_ref holds IBANs');
      expect(record.error?.message).not.toContain('label');
      expect(record.error?.message).not.toContain('audit');
      expect(await sql(live, 'SELECT id FROM marker')).toEqual([{ id: 7 }]);
      expect(await databasesLike(`${live}%`)).toEqual([live]);
    },
  );

  it('with rules for them (or keep), the same dump restores; warn mode records the findings', async () => {
    const dir = await tempDir('pii-values-ok');
    const live = uniqueDb('pii_values_ok');
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', 'prod.sql') }, maxAge: '8d' },
      anonymize: {
        secret: 's',
        unknownPii: 'fail',
        keep: ['public.accounts.payout_ref'],
        tables: { 'public.accounts': { contact: 'email' } },
      },
    });
    await copyFile(join(dumps, 'prod.sql'), join(dir, 'backups', 'prod.sql'));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    const [row] = await sql<{ n: string }>(
      live,
      "SELECT count(*) AS n FROM accounts WHERE contact LIKE '%@real-bank.example'",
    );
    expect(row?.n).toBe('0');

    const warnDir = await tempDir('pii-values-warn');
    const warnLive = uniqueDb('pii_values_warn');
    const warn = await writeTestConfig(warnDir, warnLive, {
      source: { local: { path: join(warnDir, 'backups', 'prod.dump') }, maxAge: '8d' },
      anonymize: { secret: 's', unknownPii: 'warn' },
    });
    await copyFile(join(dumps, 'prod.dump'), join(warnDir, 'backups', 'prod.dump'));
    const warned = await runRefresh(warn.config, quiet);
    expect(warned.error).toBeUndefined();
    expect(warned.anonymize?.findings.map((f) => `${f.rule} ${f.column}`)).toEqual([
      'unknown-pii-values public.accounts.contact',
      'unknown-pii-values public.accounts.payout_ref',
    ]);
  });

  it('plan lists the columns with suggested rules; --write-rules writes a file that makes the run pass', async () => {
    const dir = await tempDir('pii-plan');
    const live = uniqueDb('pii_plan');
    const { file } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', 'prod.dump') }, maxAge: '8d' },
      anonymize: { secret: 's', unknownPii: 'fail', tables: { 'public.audit': { nope: 'null' } } },
    });
    await copyFile(join(dumps, 'prod.dump'), join(dir, 'backups', 'prod.dump'));
    const rulesFile = join(dir, 'rules.yaml');
    const plan = await runCli(['plan', '--config', file, '--write-rules', rulesFile]);
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain('public.accounts.contact  by values → email');
    expect(plan.stdout).toContain('public.accounts.payout_ref  by values → hash');
    expect(plan.stdout).toContain(
      'PROBLEM: anonymize.tables.public.audit.nope: public.audit has no column "nope"',
    );
    const again = await runCli(['plan', '--config', file, '--write-rules', rulesFile]);
    expect(again.exitCode).toBe(64);
    expect(again.stderr).toContain('exists');

    const starter = parse(await readFile(rulesFile, 'utf8')) as {
      anonymize: { tables: Record<string, unknown> };
    };
    expect(starter.anonymize.tables['public.accounts']).toEqual({ contact: 'email', payout_ref: 'hash' });
    // the user fixes the rule the plan called a problem, and runs with the starter rules
    delete starter.anonymize.tables['public.audit'];
    const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(
      file,
      stringify({ ...config, anonymize: { ...starter.anonymize, secret: 'from-env-in-real-life' } }),
    );
    const run = await runCli(['run', '--config', file, '--json']);
    expect(run.exitCode).toBe(0);
    const [row] = await sql<{ n: string }>(
      live,
      "SELECT count(*) AS n FROM accounts WHERE contact LIKE '%@real-bank.example'",
    );
    expect(row?.n).toBe('0');
  });
});
