// Each adapter against a real dump that already holds the first two migrations, with their
// history rows written as the tool itself writes them: exactly the pending ones run, in the
// tool's order, and the history afterwards is what the tool would have left.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { cluster, makeDump, quiet, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/migrations/', import.meta.url));

const APPLIED_SCHEMA = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
  CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric(10,2));
  INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 500) g;
  INSERT INTO orders SELECT g, 1 + g % 500, g FROM generate_series(1, 2000) g;`;

const HISTORY: Record<string, string> = {
  sql: `CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO schema_migrations (version) VALUES ('20261101_create_users'), ('20261102_create_orders');`,
  'golang-migrate': `CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
        INSERT INTO schema_migrations VALUES (2, false);`,
  flyway: `CREATE TABLE flyway_schema_history (
          installed_rank integer NOT NULL CONSTRAINT flyway_schema_history_pk PRIMARY KEY, version varchar(50),
          description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum integer,
          installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
          execution_time integer NOT NULL, success boolean NOT NULL);
        CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);
        INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
        VALUES (1, '1', 'Create users', 'SQL', 'V1__Create_users.sql', 996368910, 'postgres', 12, true),
               (2, '1.1', 'Create orders', 'SQL', 'V1.1__Create_orders.sql', 1454059411, 'postgres', 9, true);`,
  prisma: `CREATE TABLE _prisma_migrations (
          id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL, finished_at timestamptz,
          migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
          started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
        INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES
          ('6f1a2b3c-0000-4000-8000-000000000001', 'c44ba15a989101745313b3906ec5c07e61ab915b3045d3ebc50dbfc58fa12fd8', now(), '20261101000000_create_users', 1),
          ('6f1a2b3c-0000-4000-8000-000000000002', 'c81389aac39fed541033ef489f39a211eeb6b5f5fef1bb864f0f82ddf69dcc1a', now(), '20261102000000_create_orders', 1);`,
};

async function refreshWith(tool: string, migrationsDir: string, setup = APPLIED_SCHEMA + HISTORY[tool]) {
  const dir = await tempDir(tool);
  const live = uniqueDb(tool.replace('-', '_'));
  const { config } = await writeTestConfig(dir, live, {
    migrations: { tool, dir: migrationsDir, rollback: 'check' },
  });
  await makeDump(join(dir, 'backups', 'prod.dump'), setup);
  const record = await runRefresh(config, quiet);
  return { record, live };
}

describe('migration tool adapters', () => {
  beforeAll(() => void cluster());

  it('sql: runs the pending files in name order and records their versions', async () => {
    const { record, live } = await refreshWith('sql', join(FIXTURES, 'sql'));
    expect(record.error).toBeUndefined();
    expect(record.migrations.map((m) => [m.name, m.status])).toEqual([
      ['20261110_orders_user_index', 'applied'],
      ['20261115_users_last_login', 'applied'],
      ['20261120_orders_user_fk', 'applied'],
    ]);
    expect(record.migrations.map((m) => m.rollback.status)).toEqual(['present', 'present', 'missing']);
    expect(record.migrations[1]?.statements[1]?.rows).toBe(250);
    const history = await sql<{ version: string }>(
      live,
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(history.map((row) => row.version)).toEqual([
      '20261101_create_users',
      '20261102_create_orders',
      '20261110_orders_user_index',
      '20261115_users_last_login',
      '20261120_orders_user_fk',
    ]);
    expect(
      await sql(
        live,
        `SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'orders_user_fk' AND convalidated`,
      ),
    ).toEqual([{ n: 1 }]);
  });

  it('golang-migrate: numeric order, one clean version row', async () => {
    const { record, live } = await refreshWith('golang-migrate', join(FIXTURES, 'golang-migrate'));
    expect(record.error).toBeUndefined();
    expect(record.migrations.map((m) => m.name)).toEqual([
      '10_orders_user_index',
      '11_users_last_login',
      '12_orders_user_fk',
    ]);
    expect(record.migrations.map((m) => m.rollback.status)).toEqual(['present', 'missing', 'missing']);
    expect(await sql(live, 'SELECT version::int, dirty FROM schema_migrations')).toEqual([
      { version: 12, dirty: false },
    ]);
  });

  it('golang-migrate: a dirty database is reported, nothing runs, live staging stays', async () => {
    const setup = `${APPLIED_SCHEMA}
      CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
      INSERT INTO schema_migrations VALUES (2, true);`;
    const { record } = await refreshWith('golang-migrate', join(FIXTURES, 'golang-migrate'), setup);
    expect(record.exitCode).toBe(1);
    expect(record.error?.message).toContain('dirty at version 2');
    expect(record.migrations.every((m) => m.status === 'skipped')).toBe(true);
    expect(record.swap).toBeUndefined();
  });

  it('flyway: version order 1.2 < 1.10 < 2, repeatables last, history with checksums and times', async () => {
    const { record, live } = await refreshWith('flyway', join(FIXTURES, 'flyway'));
    expect(record.error).toBeUndefined();
    expect(record.migrations.map((m) => m.name)).toEqual([
      'V1.2__Orders_user_index',
      'V1.10__Users_last_login',
      'V2__Orders_user_fk',
      'R__User_order_totals',
    ]);
    expect(record.migrations[0]?.rollback.status).toBe('present');
    const rows = await sql(
      live,
      `SELECT installed_rank, version, description, type, script, checksum, installed_by, execution_time >= 0 AS timed, success
         FROM flyway_schema_history ORDER BY installed_rank`,
    );
    expect(rows.slice(2)).toEqual([
      {
        installed_rank: 3,
        version: '1.2',
        description: 'Orders user index',
        type: 'SQL',
        script: 'V1.2__Orders_user_index.sql',
        checksum: -1541238683,
        installed_by: 'postgres',
        timed: true,
        success: true,
      },
      {
        installed_rank: 4,
        version: '1.10',
        description: 'Users last login',
        type: 'SQL',
        script: 'V1.10__Users_last_login.sql',
        checksum: -301499081,
        installed_by: 'postgres',
        timed: true,
        success: true,
      },
      {
        installed_rank: 5,
        version: '2',
        description: 'Orders user fk',
        type: 'SQL',
        script: 'V2__Orders_user_fk.sql',
        checksum: -1904647359,
        installed_by: 'postgres',
        timed: true,
        success: true,
      },
      {
        installed_rank: 6,
        version: null,
        description: 'User order totals',
        type: 'SQL',
        script: 'R__User_order_totals.sql',
        checksum: -1389796888,
        installed_by: 'postgres',
        timed: true,
        success: true,
      },
    ]);
  });

  it('flyway: a checksum mismatch on an applied migration stops the deploy, as flyway validate would', async () => {
    const setup = APPLIED_SCHEMA + (HISTORY.flyway as string).replace('996368910', '12345');
    const { record } = await refreshWith('flyway', join(FIXTURES, 'flyway'), setup);
    expect(record.exitCode).toBe(1);
    expect(record.error?.message).toMatch(
      /checksum mismatch for applied migration 1: history 12345, file 996368910/,
    );
  });

  it('prisma: folder order, finished rows with sha256 checksums', async () => {
    const { record, live } = await refreshWith('prisma', join(FIXTURES, 'prisma'));
    expect(record.error).toBeUndefined();
    expect(record.migrations.map((m) => m.name)).toEqual([
      '20261110000000_orders_user_index',
      '20261115000000_users_last_login',
      '20261120000000_orders_user_fk',
    ]);
    expect(record.migrations[0]?.rollback.status).toBe('not-supported');
    const rows = await sql(
      live,
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count, rolled_back_at, length(id) AS id_length
         FROM _prisma_migrations ORDER BY started_at, migration_name`,
    );
    expect(rows.slice(2)).toEqual([
      {
        migration_name: '20261110000000_orders_user_index',
        checksum: '16a25a5a115e3bdce07a31428ccd6c6632f5d7f15a6415d2723cdd3397ef3b6a',
        finished: true,
        applied_steps_count: 1,
        rolled_back_at: null,
        id_length: 36,
      },
      {
        migration_name: '20261115000000_users_last_login',
        checksum: '2471c7af21cb533553b3aaba18d936fc0fb5eca8edff926d0d24b9fd4cffccda',
        finished: true,
        applied_steps_count: 1,
        rolled_back_at: null,
        id_length: 36,
      },
      {
        migration_name: '20261120000000_orders_user_fk',
        checksum: 'b424ce2bb5cb37dbd431134e2d6d110b3460dc6046f97e47819669f7d7e6668a',
        finished: true,
        applied_steps_count: 1,
        rolled_back_at: null,
        id_length: 36,
      },
    ]);
  });

  it('a migration that fails halfway: exit 1, the error names file, line and statement, live staging untouched', async () => {
    const dir = await tempDir('failing');
    const migrations = join(dir, 'migrations');
    await mkdir(migrations);
    for (const name of [
      '20261101_create_users.sql',
      '20261102_create_orders.sql',
      '20261110_orders_user_index.sql',
    ]) {
      await copyFile(join(FIXTURES, 'sql', name), join(migrations, name));
    }
    await writeFile(
      join(migrations, '20261115_broken.sql'),
      "ALTER TABLE users ADD COLUMN nickname text;\n\nUPDATE users SET nickname = 'x' WHERE nosuchcolumn = 1;\n",
    );
    await writeFile(join(migrations, '20261120_after.sql'), 'ALTER TABLE users ADD COLUMN later int;\n');
    const live = uniqueDb('failing');
    const { config } = await writeTestConfig(dir, live, { migrations: { dir: migrations } });
    // A first refresh without pending migrations makes a live database to protect.
    await makeDump(join(dir, 'backups', 'prod.dump'), APPLIED_SCHEMA + HISTORY.sql);
    const before = await runRefresh(
      { ...config, migrations: { ...config.migrations!, dir: join(FIXTURES, 'sql'), tool: 'sql' } },
      quiet,
    );
    expect(before.outcome).toBe('succeeded');
    const liveBefore = await sql(live, 'SELECT version FROM schema_migrations ORDER BY 1');

    const record = await runRefresh(config, quiet);
    expect(record.outcome).toBe('failed');
    expect(record.exitCode).toBe(1);
    expect(record.error?.step).toBe('migrate');
    expect(record.error?.message).toContain(`${join(migrations, '20261115_broken.sql')}:3`);
    expect(record.error?.message).toContain('nosuchcolumn');
    expect(record.steps.find((s) => s.name === 'migrate')?.status).toBe('failed');
    expect(record.migrations.map((m) => [m.name, m.status])).toEqual([
      ['20261110_orders_user_index', 'applied'],
      ['20261115_broken', 'failed'],
      ['20261120_after', 'skipped'],
    ]);
    const failed = record.migrations[1]!;
    expect(failed.error).toMatchObject({
      sqlstate: '42703',
      line: 3,
      statement: "UPDATE users SET nickname = 'x' WHERE nosuchcolumn = 1",
    });
    expect(failed.statements.map((s) => s.error === undefined)).toEqual([true, false]);
    expect(record.swap).toBeUndefined();
    expect(await sql(live, 'SELECT version FROM schema_migrations ORDER BY 1')).toEqual(liveBefore);
    expect(
      await sql(`postgres`, 'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [
        `${live}__next`,
      ]),
    ).toEqual([{ n: 0 }]);
  });
});
