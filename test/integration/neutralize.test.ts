// Links to production inside a production dump — a postgres_fdw server with a user mapping, a
// foreign table, functions that call dblink, an event trigger that writes through dblink — are
// neutralized before anything runs in the new database: afterwards staging can neither read nor
// write the database standing in for production, and the record lists each object.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NEUTRALIZED_HOST } from '../../src/neutralize/neutralize-database.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { renderText } from '../../src/stages/report/render-text.js';
import {
  cluster,
  makeDumps,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const standIn = uniqueDb('prod_standin');

function productionSql(): string {
  const { port, password } = cluster();
  const connstr = `host=127.0.0.1 port=${port} dbname=${standIn} user=postgres password=${password}`;
  return `
    CREATE EXTENSION postgres_fdw;
    CREATE EXTENSION dblink;
    CREATE TABLE users (id bigint PRIMARY KEY, name text);
    INSERT INTO users VALUES (1, 'a'), (2, 'b');
    CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
    CREATE SERVER prod FOREIGN DATA WRAPPER postgres_fdw
      OPTIONS (host '127.0.0.1', port '${port}', dbname '${standIn}');
    CREATE USER MAPPING FOR postgres SERVER prod OPTIONS (user 'postgres', password '${password}');
    CREATE FOREIGN TABLE remote_secrets (v text) SERVER prod OPTIONS (table_name 'secrets');
    CREATE SERVER "other staging" FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'reporting-staging.internal', dbname 'r');
    CREATE SCHEMA "odd schema";
    CREATE FUNCTION "odd schema"."push to prod"(note text, n int DEFAULT 1) RETURNS integer LANGUAGE plpgsql AS $f$
    BEGIN
      PERFORM dblink_exec('${connstr}', format('INSERT INTO writes VALUES (%L)', note));
      RETURN n;
    END $f$;
    CREATE FUNCTION read_prod() RETURNS SETOF text LANGUAGE sql AS $f$
      SELECT v FROM dblink('${connstr}', 'SELECT v FROM secrets') AS t(v text)
    $f$;
    CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $f$
    BEGIN
      PERFORM dblink_exec('${connstr}', format('INSERT INTO writes VALUES (%L)', tg_tag));
    END $f$;
    CREATE EVENT TRIGGER report_ddl ON ddl_command_end EXECUTE FUNCTION on_ddl();
    CREATE VIEW prod_secrets_view AS SELECT v FROM dblink('${connstr}', 'SELECT v FROM secrets') AS t(v text);
    CREATE MATERIALIZED VIEW prod_secrets_cache AS
      SELECT v FROM dblink('${connstr}', 'SELECT v FROM secrets') AS t(v text);`;
}

/** Rows written into the stand-in since it was created. */
const standInWrites = async () =>
  (await sql<{ note: string }>(standIn, 'SELECT note FROM writes')).map((r) => r.note);

describe('neutralize', () => {
  let dumps: string;
  beforeAll(async () => {
    cluster();
    await sql('postgres', `CREATE DATABASE ${standIn}`);
    await sql(
      standIn,
      // Reading the secrets writes a row too: a read that reaches the stand-in is seen as well.
      `CREATE TABLE writes (note text);
       CREATE TABLE secret_rows (v text); INSERT INTO secret_rows VALUES ('production secret');
       CREATE FUNCTION read_secrets() RETURNS SETOF text LANGUAGE plpgsql SET search_path = public AS $f$
       BEGIN INSERT INTO writes VALUES ('read'); RETURN QUERY SELECT v FROM secret_rows; END $f$;
       CREATE VIEW secrets AS SELECT v FROM read_secrets() AS t(v);`,
    );
    dumps = await tempDir('neutralize-dumps');
    await makeDumps(dumps, productionSql(), { 'prod.dump': 'c', 'prod.sql': 'p' }, async (database) => {
      // The links work in production: that is what must not survive into staging.
      expect(await sql(database, 'SELECT v FROM remote_secrets')).toEqual([{ v: 'production secret' }]);
      await sql(standIn, 'TRUNCATE writes');
    });
    expect(await standInWrites()).toEqual([]);
  });

  for (const format of ['custom', 'plain'] as const) {
    it(`${format} dump: staging cannot read or write the stand-in, and the record lists what was neutralized`, async () => {
      const dir = await tempDir(`neutralize-${format}`);
      const live = uniqueDb(`neut_${format}`);
      await mkdir(join(dir, 'migrations'));
      await writeFile(join(dir, 'migrations', '001_ddl.sql'), 'CREATE TABLE made_by_migration (id int);\n');
      const { config } = await writeTestConfig(dir, live, {
        source: {
          local: { path: join(dir, 'backups', format === 'plain' ? '*.sql' : '*.dump') },
          maxAge: '8d',
        },
        migrations: { dir: join(dir, 'migrations') },
        neutralize: {
          keep: [{ kind: 'foreign-server', name: 'other staging', reason: 'the reporting staging system' }],
        },
      });
      const file = format === 'plain' ? 'prod.sql' : 'prod.dump';
      await copyFile(join(dumps, file), join(dir, 'backups', file));

      const record = await runRefresh(config, quiet);
      expect(record.error).toBeUndefined();
      expect(record.outcome).toBe('succeeded');

      // Nothing reached the stand-in during the restore, the migration or the swap.
      expect(await standInWrites()).toEqual([]);
      // Staging cannot read through the foreign table, nor through dblink, nor write through it.
      await expect(sql(live, 'SELECT v FROM remote_secrets')).rejects.toThrow(
        /user mapping not found|could not translate host name|could not connect/,
      );
      await expect(sql(live, 'SELECT read_prod()')).rejects.toThrow(/neutralized by staging-refresh/);
      await expect(sql(live, 'SELECT v FROM prod_secrets_view')).rejects.toThrow(
        /public.prod_secrets_view was neutralized by staging-refresh/,
      );
      await expect(sql(live, 'SELECT v FROM prod_secrets_cache')).rejects.toThrow(/has not been populated/);
      await expect(sql(live, `SELECT "odd schema"."push to prod"('x')`)).rejects.toThrow(
        /neutralized by staging-refresh/,
      );
      await sql(live, 'CREATE TABLE ddl_in_staging (id int)');
      expect(await standInWrites()).toEqual([]);
      // The production password is not in staging.
      expect(await sql(live, 'SELECT srvname FROM pg_user_mappings')).toEqual([]);
      expect(await sql(live, "SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'prod'")).toEqual([
        { srvoptions: [`host=${NEUTRALIZED_HOST}`] },
      ]);
      // The kept server is untouched; the migration ran with the event trigger disabled.
      const other = await sql(
        live,
        `SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'other staging'`,
      );
      expect(other[0]?.srvoptions.sort()).toEqual(['dbname=r', 'host=reporting-staging.internal']);
      expect(await sql(live, "SELECT evtenabled FROM pg_event_trigger WHERE evtname = 'report_ddl'")).toEqual(
        [{ evtenabled: 'D' }],
      );
      expect(await sql(live, "SELECT to_regclass('made_by_migration') IS NOT NULL AS made")).toEqual([
        { made: true },
      ]);

      const listed = (record.neutralized ?? []).map(
        (object) => `${object.kind} ${object.name}: ${object.action}`,
      );
      expect(listed.sort()).toEqual(
        [
          `user-mapping postgres@prod: ${format === 'plain' ? 'dropped' : 'not-restored'}`,
          'foreign-server prod: options-removed',
          'foreign-server other staging: kept',
          'foreign-table public.remote_secrets: unreachable',
          'function odd schema.push to prod(note text, n integer): body-replaced',
          'function public.read_prod(): body-replaced',
          'function public.on_ddl(): body-replaced',
          'event-trigger report_ddl: disabled',
          'view public.prod_secrets_view: definition-replaced',
          'materialized-view public.prod_secrets_cache: not-refreshed',
        ].sort(),
      );
      const kept = record.neutralized?.find((object) => object.action === 'kept');
      expect(kept?.detail).toContain('the reporting staging system');
      expect(JSON.stringify(record)).not.toContain(cluster().password);
      expect(renderText(record)).toContain('foreign-server prod: options-removed');
    });
  }

  it('keeping a foreign server that points at a production host is refused (exit 77), staging untouched', async () => {
    const dir = await tempDir('neutralize-prod');
    const live = uniqueDb('neut_prod');
    const { config } = await writeTestConfig(dir, live, {
      // "other staging" points at reporting-staging.internal: here it is production, spelled differently.
      production: { hosts: ['Reporting-Staging.Internal.:5432'] },
      neutralize: { keep: [{ kind: 'foreign-server', name: 'other staging', reason: 'mistake' }] },
    });
    await copyFile(join(dumps, 'prod.dump'), join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record).toMatchObject({ exitCode: 77, error: { step: 'restore' } });
    expect(record.error?.message).toContain('foreign server other staging');
    expect(
      await sql('postgres', 'SELECT datname FROM pg_database WHERE datname LIKE $1', [`${live}%`]),
    ).toEqual([]);
  });

  it('a kept event trigger is disabled while the tool runs its DDL and enabled again before the swap', async () => {
    const dir = await tempDir('neutralize-keep');
    const live = uniqueDb('neut_keep');
    await mkdir(join(dir, 'migrations'));
    await writeFile(join(dir, 'migrations', '001_ddl.sql'), 'CREATE TABLE made_by_migration (id int);\n');
    const { config } = await writeTestConfig(dir, live, {
      migrations: { dir: join(dir, 'migrations') },
      neutralize: {
        keep: [
          { kind: 'event-trigger', name: 'report_ddl', reason: 'audit of staging DDL' },
          { kind: 'function', name: 'public.on_ddl', reason: 'the audit trigger' },
        ],
      },
    });
    await copyFile(join(dumps, 'prod.dump'), join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(await standInWrites()).toEqual([]);
    expect(await sql(live, "SELECT evtenabled FROM pg_event_trigger WHERE evtname = 'report_ddl'")).toEqual([
      { evtenabled: 'O' },
    ]);
    const kept = (record.neutralized ?? []).filter((object) => object.action === 'kept').map((o) => o.name);
    expect(kept.sort()).toEqual(['public.on_ddl()', 'report_ddl']);
  });
});
