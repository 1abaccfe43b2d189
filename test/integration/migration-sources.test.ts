// Where migrations come from and how they run: a git repository, the application's own CLI
// (`tool: command`), and what `plan` says is pending.
import { cp, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { cluster, makeDump, quiet, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const PRODUCTION = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
  CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric(10,2));
  INSERT INTO users SELECT g, 'u' || g || '@x.example' FROM generate_series(1, 5000) g;
  INSERT INTO orders SELECT g, 1 + g % 5000, g FROM generate_series(1, 20000) g;
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO schema_migrations (version) VALUES ('20261101_create_users'), ('20261102_create_orders');`;

describe('migration sources', () => {
  let dump: string;
  beforeAll(async () => {
    cluster();
    dump = await makeDump(join(await tempDir('sources'), 'prod.dump'), PRODUCTION);
  });

  it('clones migrations from a git repository (shallow, at a ref) and replays the pending ones', async () => {
    const dir = await tempDir('git');
    const repo = join(dir, 'app');
    await mkdir(join(repo, 'db'), { recursive: true });
    await cp(join(FIXTURES, 'migrations', 'sql'), join(repo, 'db', 'migrations'), { recursive: true });
    const git = (...args: string[]) =>
      execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    await git('init', '-q', '-b', 'release');
    await git('add', '.');
    await git('commit', '-q', '-m', 'migrations');
    const live = uniqueDb('git');
    const { config } = await writeTestConfig(dir, live, {
      migrations: { git: { url: `file://${repo}`, ref: 'release', path: 'db/migrations' } },
    });
    await cp(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.migrations.map((m) => m.name)).toEqual([
      '20261110_orders_user_index',
      '20261115_users_last_login',
      '20261120_orders_user_fk',
    ]);

    const { config: wrongRef } = await writeTestConfig(dir, live, {
      migrations: { git: { url: `file://${repo}`, ref: 'nope' } },
    });
    const failed = await runRefresh(wrongRef, quiet);
    expect(failed.exitCode).toBe(69);
    expect(failed.error?.message).toContain(`cannot clone migrations from file://${repo} at nope`);
  });

  it('tool: command runs the application CLI against the new database and sees what it locked', async () => {
    const dir = await tempDir('command');
    const live = uniqueDb('command');
    const { config } = await writeTestConfig(dir, live, {
      migrations: {
        tool: 'command',
        command: [process.execPath, join(FIXTURES, 'tools', 'fake-migrator.mjs')],
      },
    });
    await cp(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    const [migration] = record.migrations;
    expect(migration).toMatchObject({ status: 'applied', rollback: { status: 'not-supported' } });
    expect(migration!.name).toMatch(/^command: .*fake-migrator\.mjs$/);
    expect(migration!.durationMs).toBeGreaterThanOrEqual(600);
    expect(migration!.statements.map((s) => s.sql)).toContain('SELECT pg_sleep(0.6)');
    const share = migration!.locks.find((l) => l.relation === 'public.users' && l.mode === 'ShareLock');
    expect(share?.heldMs).toBeGreaterThanOrEqual(300);
    expect(
      await sql(live, `SELECT count(*)::int AS n FROM schema_migrations WHERE version = '20261120_via_tool'`),
    ).toEqual([{ n: 1 }]);
  });

  it('tool: command that fails: exit 1 with its stderr, no password shown, live staging untouched', async () => {
    const info = cluster();
    const dir = await tempDir('command-fail');
    const live = uniqueDb('cmdfail');
    const { config } = await writeTestConfig(dir, live, {
      migrations: {
        tool: 'command',
        command: [process.execPath, join(FIXTURES, 'tools', 'fake-migrator.mjs'), '--fail'],
      },
    });
    await cp(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(1);
    expect(record.error?.message).toMatch(
      /migration failed: column "email" of relation "users" already exists/,
    );
    expect(JSON.stringify(record)).not.toContain(info.password);
    expect(
      await sql('postgres', 'SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE $1', [`${live}%`]),
    ).toEqual([{ n: 0 }]);
  });

  it('tool: node-pg-migrate runs each pending migration through its API, one at a time, observed', async () => {
    const dir = await tempDir('npm-migrate');
    const live = uniqueDb('npgm');
    const { config } = await writeTestConfig(dir, live, {
      migrations: {
        tool: 'node-pg-migrate',
        dir: join(FIXTURES, 'migrations', 'node-pg-migrate'),
        rollback: 'rehearse',
      },
    });
    await makeDump(
      join(dir, 'backups', 'prod.dump'),
      `${PRODUCTION}
       CREATE TABLE pgmigrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
       INSERT INTO pgmigrations (name, run_on) VALUES ('1763900000000_create-users', now()), ('1763900000001_create-orders', now());`,
    );
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.migrations.map((m) => [m.name, m.status, m.rollback.status])).toEqual([
      ['1763900000002_orders-user-index', 'applied', 'rehearsed'],
      ['1763900000003_users-last-login', 'applied', 'rehearsed'],
      ['1763900000004_orders-user-fk', 'applied', 'rehearsed'],
    ]);
    expect(
      record.migrations[0]!.locks.some((l) => l.relation === 'public.orders' && l.mode === 'ShareLock'),
    ).toBe(true);
    const names = await sql<{ name: string }>(live, 'SELECT name FROM pgmigrations ORDER BY id');
    expect(names.map((row) => row.name)).toEqual([
      '1763900000000_create-users',
      '1763900000001_create-orders',
      '1763900000002_orders-user-index',
      '1763900000003_users-last-login',
      '1763900000004_orders-user-fk',
    ]);
    expect(await sql(live, 'SELECT count(*)::int AS n FROM users WHERE last_login IS NOT NULL')).toEqual([
      { n: 2500 },
    ]);
  });

  it('plan lists what live staging has not applied, with times from earlier runs, and changes nothing', async () => {
    const info = cluster();
    const dir = await tempDir('plan-pending');
    const live = uniqueDb('planpending');
    const control = uniqueDb('plancontrol');
    await sql('postgres', `CREATE DATABASE ${control}`);
    const controlUrl = `postgres://${info.user}@${info.host}:${info.port}/${control}`;
    const { config } = await writeTestConfig(dir, live, {
      control: { url: controlUrl },
      migrations: { dir: join(FIXTURES, 'migrations', 'sql') },
    });
    await cp(dump, join(dir, 'backups', 'prod.dump'));
    expect((await runRefresh(config, quiet)).outcome).toBe('succeeded');
    // Live staging now has every migration; a fresh database from the dump would not: pretend a rollback.
    await sql(live, `DELETE FROM schema_migrations WHERE version = '20261120_orders_user_fk'`);
    const { file } = await writeTestConfig(dir, live, {
      control: { url: controlUrl },
      migrations: { dir: join(FIXTURES, 'migrations', 'sql') },
    });
    const plan = await runCli(['plan', '--config', file, '--json']);
    expect(plan.exitCode).toBe(0);
    const pending = JSON.parse(plan.stdout).migrations.pending;
    expect(pending).toEqual([
      {
        name: '20261120_orders_user_fk',
        estimatedMs: expect.any(Number),
        estimatedVerdict: expect.any(String),
      },
    ]);
    const text = await runCli(['plan', '--config', file]);
    expect(text.stdout).toMatch(
      /pending {2}1 sql migration\(s\) not applied on live staging:\n {9}20261120_orders_user_fk {2}~\S+ in earlier runs/,
    );
  });
});
