// Helpers for integration tests: unique database names per file, SQL against the test cluster,
// dumps made with the real pg_dump, and configs written as YAML the way users write them.
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { execa, execaSync } from 'execa';
import type pg from 'pg';
import { inject, vi } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import { ident, type PgTarget, parsePgUrl } from '../../src/infra/pg/connection.js';
import { silentLogger } from '../../src/log/logger.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import type { RunRecord } from '../../src/record/run-record.js';
import './provided.js';
import { type ClusterInfo, clusterQuery } from './pg-cluster.js';

/** The cluster started by globalSetup; also puts its password into PGPASSWORD for this process. */
export function cluster(): ClusterInfo {
  const info = inject('pgCluster');
  process.env.PGPASSWORD = info.password;
  return info;
}

/** The test cluster's PostgreSQL major (CI's second pass runs the suite against 17). */
export function serverMajor(): number {
  const printed = execaSync(join(cluster().binDir, 'postgres'), ['--version']).stdout;
  return Number(/\(PostgreSQL\) (\d+)/.exec(printed)?.[1]);
}

/** A database name unique to this test: t_<label>_<random>. */
export function uniqueDb(label: string): string {
  return `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs SQL on a database of the test cluster and returns the rows. */
export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  database: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  return clusterQuery<T>(cluster(), database, text, values);
}

/** Names of databases on the cluster starting with `prefix`. */
export async function databasesLike(prefix: string): Promise<string[]> {
  const rows = await sql<{ datname: string }>(
    'postgres',
    'SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1',
    [`${prefix}%`],
  );
  return rows.map((row) => row.datname);
}

/** libpq's environment for a tool (pg_dump, pg_restore, psql — any major) against the test cluster. */
export function clusterEnv(): Record<string, string> {
  const info = cluster();
  return { PGHOST: info.host, PGPORT: String(info.port), PGUSER: info.user, PGPASSWORD: info.password };
}

/** Every row of `database` as `pg_dump --data-only` prints it: what a full scan for originals reads. */
export async function allDataText(database: string): Promise<string> {
  const info = cluster();
  const { stdout } = await execa(join(info.binDir, 'pg_dump'), ['--data-only', database], {
    env: clusterEnv(),
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

/** Creates a production database from `setupSql`, dumps it to `file`, drops it. */
export async function makeDump(
  file: string,
  setupSql: string,
  format: 'custom' | 'tar' = 'custom',
): Promise<string> {
  await makeDumps(dirname(file), setupSql, { [basename(file)]: format === 'custom' ? 'c' : 't' });
  return file;
}

/**
 * Creates a production database from `setupSql`, dumps it once per entry of `files` (file name in
 * `dir` → pg_dump --format letter: c custom, t tar, d directory, p plain), then drops it.
 * `whileThere` may look at the database before it goes; `dumpArgs` are pg_dump options for every file;
 * `createOptions` are CREATE DATABASE options (`ENCODING 'LATIN1' LOCALE 'C'`), from template0.
 */
export async function makeDumps(
  dir: string,
  setupSql: string,
  files: Record<string, 'c' | 't' | 'd' | 'p'>,
  whileThere?: (database: string) => Promise<void>,
  dumpArgs: readonly string[] = [],
  /** CREATE DATABASE options when the production database is not made like the cluster's default. */
  createOptions?: string,
): Promise<void> {
  const info = cluster();
  const source = uniqueDb('prod');
  await sql(
    'postgres',
    createOptions
      ? `CREATE DATABASE ${ident(source)} TEMPLATE template0 ${createOptions}`
      : `CREATE DATABASE ${ident(source)}`,
  );
  try {
    await sql(source, setupSql);
    await whileThere?.(source);
    const env = clusterEnv();
    for (const [file, format] of Object.entries(files))
      await execa(
        join(info.binDir, 'pg_dump'),
        [`--format=${format}`, `--file=${join(dir, file)}`, ...dumpArgs, source],
        {
          env,
        },
      );
  } finally {
    await sql('postgres', `DROP DATABASE ${ident(source)} WITH (FORCE)`);
  }
}

/**
 * A table whose every part is hostile to a reader of COPY text: a dotted, quoted schema and a name
 * with a quote, text with tabs, newlines, backslashes and non-ASCII (NULL every 7th), a text[] with
 * commas, quotes and NULLs, jsonb. `textColumn` names the text column.
 */
export function orderLinesSql(rows: number, textColumn = 'note'): string {
  return `
  CREATE SCHEMA "Sales.EU";
  CREATE TABLE "Sales.EU"."Order ""Lines""" (id int PRIMARY KEY, ${textColumn} text, tags text[], doc jsonb);
  INSERT INTO "Sales.EU"."Order ""Lines"""
    SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'tab' || chr(9) || 'nl' || chr(10) || 'bs\\' || g || ' ü €' END,
           ARRAY['a,b', 'c"d', NULL], jsonb_build_object('k', g, 's', repeat('x', g % 50))
      FROM generate_series(1, ${rows}) g;`;
}

/** A temp directory for one test. */
export async function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `staging-refresh-${label}-`));
}

/** Writes a config YAML for a live database on the test cluster and returns both file and parsed config. */
export async function writeTestConfig(
  dir: string,
  live: string,
  extra: Record<string, unknown> = {},
): Promise<{ file: string; config: Config }> {
  const info = cluster();
  const document = {
    source: { local: { path: join(dir, 'backups', '*.dump') }, maxAge: '8d' },
    workDir: join(dir, 'work'),
    target: {
      url: `postgres://${info.user}@${info.host}:${info.port}/${live}`,
      allow: [`${info.host}:${info.port}/${live}`],
      jobs: 2,
      keepPrevious: 1,
      swapGrace: '1s',
    },
    report: { dir: join(dir, 'reports') },
    // Tests about other capabilities have e-mail columns without rules: warn instead of fail.
    // The anonymization tests pass their own `anonymize` section with the strict default.
    anonymize: { unknownPii: 'warn' },
    ...extra,
  };
  await mkdir(join(dir, 'backups'), { recursive: true });
  const file = join(dir, 'config.yaml');
  const text = stringify(document);
  await writeFile(file, text);
  return { file, config: parseConfig(text, process.env, dir) };
}

/** Options for runRefresh in tests. */
export const quiet = { log: silentLogger() };

/** The client tools a run or doctor finds: PG_BIN and PG_BIN_DIRS as given, unset where not (until vi.unstubAllEnvs). */
export function useClientTools(tools: { PG_BIN?: string; PG_BIN_DIRS?: string }): void {
  vi.stubEnv('PG_BIN', tools.PG_BIN);
  vi.stubEnv('PG_BIN_DIRS', tools.PG_BIN_DIRS);
}

/**
 * A refresh of the backup at `backup`, copied alone into a new local source, into a new live
 * database, with `extra` config and the client tools `tools` names (useClientTools).
 */
export async function refreshBackup(
  backup: string,
  label: string,
  extra: Record<string, unknown>,
  tools: { PG_BIN?: string; PG_BIN_DIRS?: string },
): Promise<{ record: RunRecord; live: string }> {
  const dir = await tempDir(`${label}-run`);
  const live = uniqueDb(`${label}_live`);
  const name = basename(backup);
  const { config } = await writeTestConfig(dir, live, {
    ...extra,
    source: { local: { path: join(dir, 'backups', name) }, maxAge: '8d' },
  });
  await copyFile(backup, join(dir, 'backups', name));
  useClientTools(tools);
  return { record: await runRefresh(config, quiet), live };
}

/** A new database holding `dump`'s pre-data (tables, no rows), as a target to stream rows into. */
export async function preDataTarget(dump: string, label: string): Promise<PgTarget> {
  const info = cluster();
  const database = uniqueDb(label);
  await sql('postgres', `CREATE DATABASE ${database}`);
  await execa(
    join(info.binDir, 'pg_restore'),
    ['--section=pre-data', '--no-owner', `--dbname=${database}`, dump],
    {
      env: clusterEnv(),
    },
  );
  return parsePgUrl(`postgres://${info.user}@${info.host}:${info.port}/${database}`, {
    PGPASSWORD: info.password,
  });
}
