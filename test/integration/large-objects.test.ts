// Large objects hold bytes no column rule can mask (a scanned passport, say). A backup that has
// them stops the run before any row is written unless the config decides: dropped, staging has
// none; kept, they are restored as they are and the record says so. Custom and plain dumps.
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { largeObjectTotal } from '../../src/dump/large-object-count.js';
import { AbortedError, BadBackupError } from '../../src/errors.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  cluster,
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
  CREATE TABLE documents (id bigint PRIMARY KEY, scan oid);
  INSERT INTO documents SELECT g, lo_from_bytea(0, convert_to('passport of Realperson ' || g, 'UTF8'))
    FROM generate_series(1, 3) g;`;

describe('large objects', () => {
  let dumps: string;
  beforeAll(async () => {
    cluster();
    dumps = await tempDir('large-objects');
    await makeDumps(dumps, PRODUCTION, { 'prod.dump': 'c', 'prod.sql': 'p' });
  });

  const run = async (file: string, largeObjects?: 'drop' | 'keep') => {
    const dir = await tempDir('lo-run');
    const live = uniqueDb('lo');
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
      anonymize: { secret: 's', unknownPii: 'fail', ...(largeObjects && { largeObjects }) },
    });
    await copyFile(join(dumps, file), join(dir, 'backups', file));
    return { live, record: await runRefresh(config, quiet) };
  };
  const objects = (live: string) =>
    sql<{ text: string }>(
      live,
      "SELECT convert_from(lo_get(oid), 'UTF8') AS text FROM pg_largeobject_metadata ORDER BY 1",
    );

  // pg_dump 17 lists large objects in BLOB METADATA groups, counted from the script pg_restore
  // prints for them: an archive damaged there is a bad backup, and a stop is a stop.
  it('an archive whose large objects cannot be printed is a bad backup, not an internal error', async () => {
    const file = join(dumps, 'damaged.dump');
    await writeFile(file, 'PGDMP\u0001\u000e\u0000 not an archive after all');
    const group = {
      dumpId: 7,
      type: 'BLOB METADATA',
      schema: '-',
      name: '16391..16393',
      owner: 'app',
      line: '7; 0 0 BLOB METADATA - 16391..16393 app',
    };
    const failed = await largeObjectTotal(file, [group]).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(BadBackupError);
    expect((failed as BadBackupError).message).toMatch(
      /could not print its large objects' entries:\n.*pg_restore/s,
    );
    const stop = new AbortController();
    stop.abort();
    await expect(largeObjectTotal(join(dumps, 'prod.dump'), [group], stop.signal)).rejects.toBeInstanceOf(
      AbortedError,
    );
  });

  it('plan reports them, and --write-rules suggests leaving them out', async () => {
    const dir = await tempDir('lo-plan');
    const { file } = await writeTestConfig(dir, uniqueDb('lo_plan'), {
      source: { local: { path: join(dir, 'backups', 'prod.dump') }, maxAge: '8d' },
      anonymize: { unknownPii: 'fail' },
    });
    await copyFile(join(dumps, 'prod.dump'), join(dir, 'backups', 'prod.dump'));
    const rules = join(dir, 'rules.yaml');
    const plan = await runCli(['plan', '--config', file, '--write-rules', rules]);
    expect(plan.exitCode, plan.all).toBe(0);
    expect(plan.stdout).toContain('the backup holds 3 large object(s)');
    const starter = parse(await readFile(rules, 'utf8')) as { anonymize: Record<string, unknown> };
    expect(starter.anonymize.largeObjects).toBe('drop');
    expect(starter.anonymize.tables).toEqual({});
  });

  for (const file of ['prod.dump', 'prod.sql']) {
    it(`${file}: undecided → exit 78 before any row, naming the setting`, async () => {
      const { live, record } = await run(file);
      expect(record.exitCode).toBe(78);
      expect(record.error?.message).toContain('the backup holds 3 large object(s)');
      expect(record.error?.message).toContain('anonymize.largeObjects: drop');
      expect(await databasesLike(live)).toEqual([]);
    });

    it(`${file}: drop → staging has none; keep → restored as they are, and recorded`, async () => {
      const dropped = await run(file, 'drop');
      expect(dropped.record.error).toBeUndefined();
      expect(dropped.record.anonymize?.largeObjects).toEqual({ count: 3, action: 'dropped' });
      expect(await objects(dropped.live)).toEqual([]);

      const kept = await run(file, 'keep');
      expect(kept.record.error).toBeUndefined();
      expect(kept.record.anonymize?.largeObjects).toEqual({ count: 3, action: 'kept' });
      expect((await objects(kept.live)).map((row) => row.text)).toEqual([
        'passport of Realperson 1',
        'passport of Realperson 2',
        'passport of Realperson 3',
      ]);
      expect(kept.record.anonymize?.findings.map((finding) => finding.message)).toContain(
        '3 large object(s) restored unmasked (anonymize.largeObjects: keep)',
      );
    });
  }
});
