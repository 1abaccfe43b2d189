// Staging is created with production's encoding and locale (database-options.ts, next-database.ts):
// read from the archive's DATABASE entry, so text sorts, compares and is indexed as in production.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ident } from '../../src/infra/pg/connection.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { makeDumps, quiet, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';

const WORDS = `CREATE TABLE words (w text PRIMARY KEY); INSERT INTO words VALUES ('b'), ('B'), ('a'), ('ä'), ('Z');`;
const SORTED = `SELECT string_agg(w, ',' ORDER BY w) AS sorted FROM words`;

/**
 * A production database created with `options` (and `setup`), dumped in custom format to
 * `dir`/backups/prod.dump; how it sorts WORDS, when it has them.
 */
async function productionDump(
  dir: string,
  options: string,
  setup: (source: string) => Promise<unknown> = (source) => sql(source, WORDS),
): Promise<string> {
  let sorted = '';
  await makeDumps(
    join(dir, 'backups'),
    '',
    { 'prod.dump': 'c' },
    async (source) => {
      await setup(source);
      sorted = (await sql<{ sorted: string }>(source, SORTED).catch(() => []))[0]?.sorted ?? '';
    },
    [],
    options,
  );
  return sorted;
}

describe("staging created with production's encoding and locale", () => {
  it('an ICU collation (de-DE): staging sorts text as production does, not as the server default', async () => {
    const dir = await tempDir('db-icu');
    const live = uniqueDb('icu_live');
    const { config } = await writeTestConfig(dir, live);
    const productionOrder = await productionDump(
      dir,
      "LOCALE_PROVIDER 'icu' ICU_LOCALE 'de-DE' LOCALE 'C.UTF-8'",
    );
    expect(productionOrder).toBe('a,ä,b,B,Z');
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.restore?.databaseOptions?.production).toMatchObject({
      locale_provider: 'icu',
      icu_locale: 'de-DE',
    });
    expect(record.restore?.databaseOptions?.staging).toMatchObject({
      encoding: 'UTF8',
      locale_provider: 'icu',
      icu_locale: 'de-DE',
    });
    expect(record.restore?.databaseOptions?.difference).toBeUndefined();
    // The server's default (C.UTF-8) would sort B,Z,a,b,ä.
    expect((await sql<{ sorted: string }>(live, SORTED))[0]?.sorted).toBe(productionOrder);
  });

  it('a LATIN1 database stays LATIN1 (its text is not converted to UTF-8 on the way)', async () => {
    const dir = await tempDir('db-latin1');
    const live = uniqueDb('latin1_opts_live');
    const { config } = await writeTestConfig(dir, live);
    await productionDump(dir, "ENCODING 'LATIN1' LOCALE 'C'");
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.restore?.databaseOptions?.staging).toMatchObject({ encoding: 'LATIN1', locale: 'C' });
    const [row] = await sql(
      'postgres',
      'SELECT pg_encoding_to_char(encoding) AS encoding, datcollate FROM pg_database WHERE datname = $1',
      [live],
    );
    expect(row).toEqual({ encoding: 'LATIN1', datcollate: 'C' });
    expect(
      (await sql<{ n: number }>(live, 'SELECT octet_length(w) AS n FROM words WHERE w > $1', ['z']))[0]?.n,
    ).toBe(1);
  });

  it("a locale this server lacks: production's encoding with the C locale, and the record says what differs", async () => {
    const dir = await tempDir('db-missing-locale');
    const live = uniqueDb('missing_locale_live');
    const { config } = await writeTestConfig(dir, live);
    await productionDump(dir, "LOCALE 'C.UTF-8'");
    // Production's locale as one this server has not got: the same length, so the archive's
    // lengths and offsets still hold.
    const file = join(dir, 'backups', 'prod.dump');
    const bytes = await readFile(file);
    const from = Buffer.from("LOCALE = 'C.UTF-8'");
    const at = bytes.indexOf(from);
    expect(at).toBeGreaterThan(-1);
    Buffer.from("LOCALE = 'C.UTF-9'").copy(bytes, at);
    await writeFile(file, bytes);

    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    const options = record.restore?.databaseOptions;
    expect(options?.production).toMatchObject({ encoding: 'UTF8', locale: 'C.UTF-9' });
    expect(options?.staging).toMatchObject({ encoding: 'UTF8', locale: 'C' });
    expect(options?.difference).toMatch(
      /production's database has ENCODING 'UTF8', LOCALE_PROVIDER 'libc', LOCALE 'C.UTF-9'; this staging server refused it \(invalid .*locale name.*\), so staging was created with ENCODING 'UTF8', LOCALE_PROVIDER 'libc', LOCALE 'C'.*install that locale/,
    );
    expect(record.warnings).toContain(options?.difference);
  });

  it("production's database settings: search_path, TimeZone and its roles' there applied; timeouts, session ones and custom ones not", async () => {
    const dir = await tempDir('db-settings');
    const live = uniqueDb('settings_live');
    const role = uniqueDb('settings_role');
    const gone = uniqueDb('settings_gone');
    await sql('postgres', `CREATE ROLE ${ident(role)}; CREATE ROLE ${ident(gone)}`);
    await mkdir(join(dir, 'migrations'), { recursive: true });
    // Written for production's search_path: "things" is app.things.
    await writeFile(join(dir, 'migrations', '001_things.sql'), 'INSERT INTO things VALUES (2);\n');
    const { config } = await writeTestConfig(dir, live, { migrations: { dir: join(dir, 'migrations') } });
    await productionDump(dir, '', async (source) => {
      // pg_buffercache in public, which production's search_path leaves out: the rehearsal names it.
      await sql(
        source,
        'CREATE SCHEMA app; CREATE TABLE app.things (id int); INSERT INTO app.things VALUES (1); CREATE EXTENSION pg_buffercache SCHEMA public',
      );
      await sql(
        'postgres',
        `ALTER DATABASE ${ident(source)} SET search_path TO app;
           ALTER DATABASE ${ident(source)} SET "TimeZone" = 'Europe/Berlin';
           ALTER DATABASE ${ident(source)} SET session_replication_role = replica;
           ALTER DATABASE ${ident(source)} SET statement_timeout = '30s';
           ALTER DATABASE ${ident(source)} SET "app.jwt_secret" = 'production-secret';
           ALTER ROLE ${ident(role)} IN DATABASE ${ident(source)} SET work_mem = '64MB';
           ALTER ROLE ${ident(gone)} IN DATABASE ${ident(source)} SET work_mem = '32MB';`,
      );
    });
    await sql('postgres', `DROP ROLE ${ident(gone)}`);

    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.migrations[0]?.error).toBeUndefined();
    expect(await sql(live, 'SELECT id FROM app.things ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    const settings = record.restore?.databaseSettings ?? [];
    expect(settings.map(({ role: r, name, applied }) => [r ?? null, name, applied])).toEqual([
      [null, 'search_path', true],
      [null, 'TimeZone', true],
      [null, 'session_replication_role', false],
      [null, 'statement_timeout', false],
      [null, 'app.jwt_secret', false],
      [role, 'work_mem', true],
      [gone, 'work_mem', false],
    ]);
    expect(JSON.stringify(record)).not.toContain('production-secret');
    // Not applied, but evaluated against each migration as migrations.settings' timeouts are.
    expect(record.migrationNotes).toContain(
      "statement_timeout = 30s is set on production's database (ALTER DATABASE / ALTER ROLE … IN DATABASE … SET): evaluated against each migration as migrations.settings' would be (takenWith says how)",
    );
    expect(JSON.stringify(record.migrations[0]?.takenWith)).toContain('statement_timeout');
    expect(settings.at(-1)?.note).toMatch(/does not exist/);
    // The share of app.things in shared_buffers was measured through public.pg_buffercache.
    const cache = record.migrations[0]?.takenWith?.cache;
    expect(cache?.note ?? '').not.toMatch(/not measured/);
    expect(cache?.tables.map((t) => t.cachedPct !== undefined)).toEqual([true]);
    const [row] = await sql<{
      path: string;
      zone: string;
      replication: string;
      timeout: string;
      secret: string | null;
    }>(
      live,
      `SELECT current_setting('search_path') AS path, current_setting('TimeZone') AS zone,
              current_setting('session_replication_role') AS replication,
              current_setting('statement_timeout') AS timeout, current_setting('app.jwt_secret', true) AS secret`,
    );
    expect(row).toEqual({
      path: 'app',
      zone: 'Europe/Berlin',
      replication: 'origin',
      timeout: '0',
      secret: null,
    });
    const [roleSetting] = await sql<{ setconfig: string[] }>(
      'postgres',
      `SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
        JOIN pg_roles r ON r.oid = s.setrole WHERE d.datname = $1 AND r.rolname = $2`,
      [live, role],
    );
    expect(roleSetting?.setconfig).toEqual(['work_mem=64MB']);
  });
});
