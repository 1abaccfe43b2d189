// A public sample database nobody on this team wrote (Northwind, test/fixtures/northwind, Ms-PL),
// taken as a new user takes the tool: `plan --write-rules` on its dump, a refresh with the
// starter rules exactly as written, then every row of every PII column scanned for its original.
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { create as createTar } from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ident } from '../../src/infra/pg/connection.js';
import { makeDumps, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/northwind/northwind.sql', import.meta.url));

/**
 * The columns of Northwind that hold personal data, by this test's own reading of the schema (not
 * the tool's): people's names, addresses, phones, birth dates, photos and biographies. Company
 * names, cities, regions and countries are not personal on their own.
 */
const PII: Record<string, { key: string; columns: string[] }> = {
  customers: { key: 'customer_id', columns: ['contact_name', 'address', 'postal_code', 'phone', 'fax'] },
  employees: {
    key: 'employee_id',
    columns: [
      'last_name',
      'first_name',
      'birth_date',
      'address',
      'postal_code',
      'home_phone',
      'photo',
      'notes',
      'photo_path',
    ],
  },
  orders: { key: 'order_id', columns: ['ship_name', 'ship_address', 'ship_postal_code'] },
  suppliers: { key: 'supplier_id', columns: ['contact_name', 'address', 'postal_code', 'phone', 'fax'] },
  shippers: { key: 'shipper_id', columns: ['phone'] },
};

type Row = Record<string, string | null>;

/** Every row of each PII table, as text, keyed by primary key. */
async function piiRows(database: string): Promise<Record<string, Map<string, Row>>> {
  const out: Record<string, Map<string, Row>> = {};
  for (const [table, { key, columns }] of Object.entries(PII)) {
    const list = [key, ...columns].map((column) => `${ident(column)}::text AS ${ident(column)}`).join(', ');
    const rows = await sql<Row>(database, `SELECT ${list} FROM ${ident(table)}`);
    out[table] = new Map(rows.map((row) => [String(row[key]), row]));
  }
  return out;
}

/** A value worth looking for: not empty, not an empty bytea. */
function meaningful(value: string | null | undefined): value is string {
  return value !== null && value !== undefined && value !== '' && value !== '\\x';
}

describe('a public sample schema (Northwind): starter rules as written, zero PII left', () => {
  let dumps: string;
  let originals: Record<string, Map<string, Row>>;
  beforeAll(async () => {
    dumps = await tempDir('northwind');
    const sqlText = await readFile(FIXTURE, 'utf8');
    await makeDumps(dumps, sqlText, { 'northwind.dump': 'c', dir: 'd' }, async (database) => {
      originals = await piiRows(database);
    });
    // a directory-format dump as a backup job uploads it: packed with tar, gzipped
    await createTar({ file: join(dumps, 'northwind-dir.tar'), cwd: join(dumps, 'dir') }, ['.']);
    await pipeline(
      createReadStream(join(dumps, 'northwind-dir.tar')),
      createGzip(),
      createWriteStream(join(dumps, 'northwind-dir.tar.gz')),
    );
  });

  it.each(['northwind.dump', 'northwind-dir.tar.gz'])(
    '%s: plan --write-rules, a run with the unedited file, every PII column changed in every row',
    async (backup) => {
      const dir = await tempDir('northwind-run');
      const live = uniqueDb('northwind');
      const { file } = await writeTestConfig(dir, live, {
        source: { local: { path: join(dir, 'backups', backup) }, maxAge: '8d' },
        // the strict default a new user starts with
        anonymize: { unknownPii: 'fail' },
      });
      await copyFile(join(dumps, backup), join(dir, 'backups', backup));

      // Without rules, the run refuses the backup and names the columns.
      const refused = await runCli(['run', '--config', file], { ANONYMIZE_SECRET: 'x' });
      expect(refused.exitCode, refused.all).toBe(78);
      expect(refused.all).toContain('public.customers.contact_name');
      expect(await sql('postgres', 'SELECT 1 FROM pg_database WHERE datname = $1', [live])).toEqual([]);

      const rulesFile = join(dir, 'rules.yaml');
      const plan = await runCli(['plan', '--config', file, '--write-rules', rulesFile]);
      expect(plan.exitCode, plan.all).toBe(0);
      // plan unpacked what it had to in a scratch directory, and left nothing behind
      expect(await readdir(join(dir, 'work')).catch(() => [])).toEqual([]);
      const rulesText = await readFile(rulesFile, 'utf8');
      const starter = parse(rulesText) as { anonymize: { tables: Record<string, Record<string, unknown>> } };
      // rules that fit what the column means, not only its type
      expect(starter.anonymize.tables['public.employees']).toMatchObject({
        first_name: { fake: 'person.firstName' },
        last_name: { fake: 'person.lastName' },
        postal_code: 'scramble',
        home_phone: 'scramble',
        birth_date: { shift: '30d' },
      });
      expect(starter.anonymize.tables['public.orders']).toMatchObject({
        ship_address: { fake: 'location.streetAddress' },
        ship_postal_code: 'scramble',
      });

      // The starter section replaces the config's anonymize section unedited; the secret comes
      // from the environment, as the written file says.
      const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, stringify({ ...config, anonymize: starter.anonymize }));
      const run = await runCli(['run', '--config', file, '--json'], {
        ANONYMIZE_SECRET: 'northwind-secret-1',
      });
      expect(run.exitCode, `${run.all}\n--- rules ---\n${rulesText}`).toBe(0);

      const masked = await piiRows(live);
      const survivors: string[] = [];
      // Every value of every PII column after the refresh, to look for an original moved elsewhere
      // (the non-personal columns keep their values: a company named after its owner stays).
      const maskedText = Object.values(masked)
        .flatMap((rows) => [...rows.values()].flatMap((row) => Object.values(row)))
        .join('\n');
      for (const [table, { columns }] of Object.entries(PII)) {
        const before = originals[table]!;
        const after = masked[table]!;
        // every row is still there: a refresh that drops data is not a pass
        expect(after.size, table).toBe(before.size);
        for (const [key, original] of before) {
          const now = after.get(key);
          for (const column of columns) {
            const value = original[column];
            if (!meaningful(value)) continue;
            // row-aligned: the same row does not hold its own original value
            if (now?.[column] === value) survivors.push(`${table}.${column} row ${key}: ${value}`);
            // and no original longer than a few characters is in any PII column of any row
            else if (value.length >= 8 && maskedText.includes(value))
              survivors.push(`${table}.${column} row ${key} found elsewhere: ${value}`);
          }
        }
      }
      expect(survivors, `--- rules ---\n${rulesText}`).toEqual([]);
      // a postal code is still one of its length, with its spaces and dashes where they were
      for (const [key, original] of originals.customers!) {
        const code = original.postal_code;
        if (!meaningful(code)) continue;
        const now = masked.customers!.get(key)?.postal_code ?? '';
        expect(now.replace(/[0-9]/g, '9').replace(/[A-Za-z]/g, 'A'), key).toBe(
          code.replace(/[0-9]/g, '9').replace(/[A-Za-z]/g, 'A'),
        );
      }
    },
  );
});
