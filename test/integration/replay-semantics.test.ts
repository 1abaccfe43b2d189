// Each tool's transaction semantics, replayed statement by statement, end as the real tool ends:
// applied, failed or dirty, with the history the tool writes. Where the tool sends a file as one
// simple-query message (Prisma, golang-migrate), PostgreSQL itself is the judge: the same script
// sent as one message must leave the same objects and fail with the same error.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, ident, parsePgUrl } from '../../src/infra/pg/connection.js';
import { silentLogger } from '../../src/log/logger.js';
import { migrate } from '../../src/stages/migrate/migrate.js';
import { cluster, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { prismaDiagnose } from '../harness/prisma-engine.js';

const BASE = `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
  INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 200) g;`;

async function newDatabase(label: string, setup: string): Promise<string> {
  const db = uniqueDb(label);
  await sql('postgres', `CREATE DATABASE ${ident(db)}`);
  await sql(db, setup);
  return db;
}

/** Writes `files` as a migrations directory and runs the migrate step on a new database. */
async function replay(
  tool: string,
  files: Record<string, string>,
  setup = BASE,
  migrations: Record<string, unknown> = {},
  existing?: string,
) {
  const dir = await tempDir(`sem-${tool}`);
  const migrationsDir = join(dir, 'migrations');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(migrationsDir, name)), { recursive: true });
    await writeFile(join(migrationsDir, name), text);
  }
  const db = existing ?? (await newDatabase(`sem_${tool}`, setup));
  const { config } = await writeTestConfig(dir, db, {
    migrations: { tool, dir: migrationsDir, rollback: 'off', observer: { probes: false }, ...migrations },
  });
  const run = () =>
    migrate({
      config: config.migrations!,
      target: parsePgUrl(config.target.url),
      workDir: join(dir, 'work'),
      log: silentLogger(),
      signal: new AbortController().signal,
    });
  return { result: await run(), db, again: run, migrationsDir };
}

/** The script sent as one simple-query message (node-postgres sends a query without parameters so). */
async function sendAsOneMessage(db: string, script: string): Promise<string | undefined> {
  const info = cluster();
  const client = new pg.Client(
    clientConfig(parsePgUrl(`postgres://${info.user}@${info.host}:${info.port}/${db}`), 'judge'),
  );
  await client.connect();
  try {
    await client.query(script);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end();
  }
}

async function relations(db: string): Promise<string[]> {
  const rows = await sql<{ name: string }>(
    db,
    `SELECT relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND relkind IN ('r', 'i') AND relname NOT LIKE '%migrations%' AND relname NOT LIKE 'flyway_schema_history%' ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

const ONE_MESSAGE_CASES: Record<string, string> = {
  'BEGIN … COMMIT, then CREATE INDEX CONCURRENTLY': `BEGIN;
CREATE TABLE audit (id int);
COMMIT;
CREATE INDEX CONCURRENTLY audit_id ON audit (id);
`,
  'a failing statement rolls the implicit block back': `CREATE TABLE t2 (id int);
SELECT 1/0;
`,
  'a bare COMMIT ends the implicit block; VACUUM refuses the next one': `CREATE TABLE t3 (id int);
COMMIT;
CREATE TABLE t4 (id int);
VACUUM t3;
`,
  'one statement alone is not in a block': `CREATE INDEX CONCURRENTLY users_email ON users (email);
`,
};

describe('replay semantics per tool', () => {
  beforeAll(() => void cluster());

  it.each(Object.entries(ONE_MESSAGE_CASES))(
    'one message (golang-migrate, Prisma): %s — same objects, same error as PostgreSQL gives the real message',
    async (_label, script) => {
      const judged = await newDatabase('judge', BASE);
      const realError = await sendAsOneMessage(judged, script);
      const { result, db } = await replay('golang-migrate', { '1_case.up.sql': script });
      const [record] = result.migrations;
      expect(record?.error?.message).toBe(realError);
      expect(record?.status).toBe(realError === undefined ? 'applied' : 'failed');
      expect(await relations(db)).toEqual(await relations(judged));
    },
  );

  it('golang-migrate: a failed file leaves the version dirty, and the next run refuses like `migrate up`', async () => {
    const script = ONE_MESSAGE_CASES['BEGIN … COMMIT, then CREATE INDEX CONCURRENTLY'] as string;
    const { result, db, again } = await replay('golang-migrate', {
      '1_init.up.sql': 'SELECT 1;',
      '2_split.up.sql': script,
    });
    expect(result.migrations.map((m) => [m.name, m.status])).toEqual([
      ['1_init', 'applied'],
      ['2_split', 'failed'],
    ]);
    expect(result.migrations[1]?.error?.message).toContain('cannot run inside a transaction block');
    expect(await sql(db, 'SELECT version::int, dirty FROM schema_migrations')).toEqual([
      { version: 2, dirty: true },
    ]);
    const next = await again();
    expect(next.failure?.message).toContain('dirty at version 2');
  });

  it('prisma: a failed migration keeps its row unfinished with the error in logs; the next deploy refuses (P3009)', async () => {
    const script = ONE_MESSAGE_CASES['BEGIN … COMMIT, then CREATE INDEX CONCURRENTLY'] as string;
    const { result, db, again, migrationsDir } = await replay('prisma', {
      '20261201000000_ok/migration.sql': 'CREATE TABLE ok (id int);\n',
      '20261202000000_split/migration.sql': script,
    });
    expect(result.migrations.map((m) => m.status)).toEqual(['applied', 'failed']);
    const rows = await sql<{
      migration_name: string;
      finished: boolean;
      logs: string | null;
      applied_steps_count: number;
    }>(
      db,
      'SELECT migration_name, finished_at IS NOT NULL AS finished, logs, applied_steps_count FROM _prisma_migrations ORDER BY started_at',
    );
    expect(rows.map((row) => [row.migration_name, row.finished, row.applied_steps_count])).toEqual([
      ['20261201000000_ok', true, 1],
      ['20261202000000_split', false, 0],
    ]);
    expect(rows[1]?.logs).toContain('cannot run inside a transaction block');
    // Prisma's own engine reads the history as failed at that migration.
    expect((await prismaDiagnose(db, migrationsDir)).failedMigrationNames).toEqual(['20261202000000_split']);
    const next = await again();
    expect(next.failure?.message).toContain('20261202000000_split failed earlier (P3009)');
  });

  it('prisma: checksums of CRLF checkouts and legacy (unpadded) checksums match as the engine matches them', async () => {
    const lf = 'CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n';
    const crlf = lf.replaceAll('\n', '\r\n');
    const { createHash } = await import('node:crypto');
    const digest = (text: string) => createHash('sha256').update(text).digest();
    const legacy = [...digest(lf)].map((byte) => byte.toString(16)).join('');
    const setup = `${BASE}
      CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
        migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(),
        applied_steps_count integer NOT NULL DEFAULT 0);
      INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES
        ('1', '${digest(lf).toString('hex')}', now(), '1_crlf_checkout', 1),
        ('2', '${legacy}', now(), '2_legacy', 1),
        ('3', '${digest('something else').toString('hex')}', now(), '3_edited', 1);`;
    const { result, db, migrationsDir } = await replay(
      'prisma',
      { '1_crlf_checkout/migration.sql': crlf, '2_legacy/migration.sql': lf, '3_edited/migration.sql': lf },
      setup,
    );
    expect(legacy.length).toBeLessThan(64); // the fixture really exercises the legacy rendering
    expect(result.migrations).toEqual([]);
    expect(result.notes).toEqual([expect.stringContaining('3_edited was modified after it was applied')]);
    // Prisma's own engine agrees: nothing unapplied, only 3_edited edited.
    const judged = await prismaDiagnose(db, migrationsDir);
    expect(judged).toMatchObject({
      history: null,
      editedMigrationNames: ['3_edited'],
      failedMigrationNames: [],
    });
  });

  it('flyway: CONCURRENTLY alone runs without a transaction; mixed is refused before anything runs', async () => {
    const { result, db } = await replay('flyway', {
      'V1__Index.sql': 'CREATE INDEX CONCURRENTLY users_email ON users (email);\n',
      'V2__Mixed.sql': 'CREATE TABLE mixed (id int);\nCREATE INDEX CONCURRENTLY mixed_id ON mixed (id);\n',
    });
    expect(result.migrations.map((m) => [m.name, m.status, m.transactional])).toEqual([
      ['V1__Index', 'applied', false],
      ['V2__Mixed', 'failed', undefined],
    ]);
    expect(result.migrations[1]?.error?.message).toBe(
      'Detected both transactional and non-transactional statements within the same migration (even though mixed is false). Offending statement found at line 2: CREATE INDEX CONCURRENTLY mixed_id ON mixed (id) [non-transactional]',
    );
    expect(await relations(db)).toEqual(['users', 'users_email', 'users_pkey']);
    expect(
      await sql(db, 'SELECT version, success FROM flyway_schema_history ORDER BY installed_rank'),
    ).toEqual([{ version: '1', success: true }]);
  });

  it('flyway: with mixed=true the same file runs, non-transactionally, as Flyway runs it', async () => {
    const { result, db } = await replay(
      'flyway',
      {
        'V1__Mixed.sql': 'CREATE TABLE mixed (id int);\nCREATE INDEX CONCURRENTLY mixed_id ON mixed (id);\n',
      },
      BASE,
      { flyway: { mixed: true } },
    );
    expect(result.migrations.map((m) => [m.status, m.transactional])).toEqual([['applied', false]]);
    expect(await relations(db)).toContain('mixed_id');
  });

  it('flyway: a script config file with executeInTransaction=false runs the file without a transaction', async () => {
    const batches = 'DO $$\nBEGIN\n  CREATE TABLE step_one (id int);\n  COMMIT;\nEND $$;\n';
    const { result, db } = await replay('flyway', {
      'V1__Batches.sql': batches,
      'V1__Batches.sql.conf': 'executeInTransaction=false\n',
      'V2__Same_without_conf.sql': batches.replaceAll('step_one', 'step_two'),
    });
    expect(result.migrations.map((m) => [m.name, m.status, m.transactional])).toEqual([
      ['V1__Batches', 'applied', false],
      ['V2__Same_without_conf', 'failed', true],
    ]);
    expect(result.migrations[1]?.error?.message).toContain('invalid transaction termination');
    expect(await relations(db)).toContain('step_one');
  });

  it('flyway: REINDEX INDEX CONCURRENTLY stays in Flyway’s transaction and fails there; no history row', async () => {
    const { result, db } = await replay('flyway', {
      'V1__Reindex.sql': 'REINDEX INDEX CONCURRENTLY users_pkey;\n',
    });
    expect(result.migrations[0]?.status).toBe('failed');
    expect(result.migrations[0]?.error?.message).toContain('cannot run inside a transaction block');
    expect(await sql(db, 'SELECT count(*)::int AS n FROM flyway_schema_history')).toEqual([{ n: 0 }]);
  });

  it('flyway: a failed non-transactional migration writes success=false and blocks the next migrate', async () => {
    const { result, db, again } = await replay('flyway', {
      'V1__Index.sql': 'CREATE INDEX CONCURRENTLY nope_idx ON no_such_table (id);\n',
    });
    expect(result.migrations[0]?.status).toBe('failed');
    expect(await sql(db, 'SELECT version, success FROM flyway_schema_history')).toEqual([
      { version: '1', success: false },
    ]);
    expect((await again()).failure?.message).toContain('has a failed migration (1)');
  });

  it('flyway: an applied migration whose file is gone fails like validate; ignoreMigrationPatterns and future are honoured', async () => {
    const history = `${BASE}
      CREATE TABLE flyway_schema_history (installed_rank integer PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
        type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL,
        installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL);
      INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
      VALUES (1, '1.5', 'Gone', 'SQL', 'V1.5__Gone.sql', 1, 'app', 1, true);`;
    const files = { 'V2__Next.sql': 'CREATE TABLE next_one (id int);\n', 'V1__Old.sql': 'SELECT 1;\n' };
    const missing = await replay('flyway', { 'V2__Next.sql': files['V2__Next.sql'] }, history);
    expect(missing.result.failure?.message).toContain('Detected applied migration not resolved locally: 1.5');
    expect(missing.result.migrations.map((m) => m.status)).toEqual(['skipped']);

    const ignored = await replay('flyway', { 'V2__Next.sql': files['V2__Next.sql'] }, history, {
      flyway: { ignoreMigrationPatterns: ['*:missing'] },
    });
    expect(ignored.result.failure).toBeUndefined();
    expect(ignored.result.migrations.map((m) => [m.name, m.status])).toEqual([['V2__Next', 'applied']]);

    // 1.5 is newer than every file here: a "future" migration, ignored by default.
    const future = await replay('flyway', { 'V1__Old.sql': files['V1__Old.sql'] }, history);
    expect(future.result.failure?.message).toContain(
      'Detected resolved migration not applied to database: 1',
    );
    expect(future.result.notes.join('\n')).toContain('applied migration 1.5 has no file (future');
  });

  it('sql: a file marked -- staging-refresh:no-transaction runs DO … COMMIT as psql -f would; unmarked it fails', async () => {
    const body = `DO $$
BEGIN
  CREATE TABLE step_one (id int);
  COMMIT;
  CREATE TABLE step_two (id int);
END $$;
`;
    const marked = await replay('sql', { '001_batches.sql': `-- staging-refresh:no-transaction\n${body}` });
    expect(marked.result.migrations.map((m) => [m.status, m.transactional])).toEqual([['applied', false]]);
    expect(await relations(marked.db)).toEqual(expect.arrayContaining(['step_one', 'step_two']));
    expect(await sql(marked.db, 'SELECT version FROM schema_migrations')).toEqual([
      { version: '001_batches' },
    ]);

    const unmarked = await replay('sql', { '001_batches.sql': body });
    expect(unmarked.result.migrations[0]?.status).toBe('failed');
    expect(unmarked.result.migrations[0]?.error?.message).toContain('invalid transaction termination');
  });

  it('sql: historyTable of another shape, with the version in a configured column', async () => {
    const setup = `${BASE}
      CREATE TABLE app_migrations (id serial PRIMARY KEY, filename text NOT NULL UNIQUE, run_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO app_migrations (filename) VALUES ('001_first');`;
    const { result, db } = await replay(
      'sql',
      {
        '001_first.sql': 'CREATE TABLE first (id int);\n',
        '002_second.sql': 'CREATE TABLE second (id int);\n',
      },
      setup,
      { historyTable: 'public.app_migrations', versionColumn: 'filename' },
    );
    expect(result.migrations.map((m) => [m.name, m.status])).toEqual([['002_second', 'applied']]);
    expect(await sql(db, 'SELECT id, filename FROM app_migrations ORDER BY id')).toEqual([
      { id: 1, filename: '001_first' },
      { id: 2, filename: '002_second' },
    ]);
  });

  it('node-pg-migrate: the record says whether each migration ran in a transaction, as the server saw it', async () => {
    const { result } = await replay('node-pg-migrate', {
      '1_in_transaction.js': `export const up = (pgm) => { pgm.createTable('a', { id: 'id' }); };\n`,
      '2_without.js': `export const up = (pgm) => { pgm.noTransaction(); pgm.createIndex('users', 'email', { concurrently: true }); };\n`,
      '3_in_transaction.js': `export const up = (pgm) => { pgm.createTable('b', { id: 'id' }); };\n`,
    });
    expect(result.failure).toBeUndefined();
    expect(result.migrations.map((m) => [m.name, m.status, m.transactional])).toEqual([
      ['1_in_transaction', 'applied', true],
      ['2_without', 'applied', false],
      ['3_in_transaction', 'applied', true],
    ]);
    // Its CLI would hold the transactional ones in one transaction: the run says what that changes.
    expect(result.notes).toEqual([expect.stringContaining('runs these 3 migrations in one transaction')]);
  });
});
