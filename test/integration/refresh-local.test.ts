import { copyFile, readFile, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  cluster,
  databasesLike,
  makeDump,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

const SCHEMA = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, country text);
  CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), total numeric(10,2));
  CREATE INDEX orders_user_id_idx ON orders (user_id);`;

function generation(label: string, users: number): string {
  return `${SCHEMA}
    INSERT INTO users SELECT g, '${label}' || g || '@corp.example', 'NL' FROM generate_series(1, ${users}) g;
    INSERT INTO orders SELECT g, 1 + g % ${users}, g * 1.5 FROM generate_series(1, ${users * 3}) g;`;
}

describe('run from a local dump', () => {
  let dir: string;
  let firstDump: string;
  let secondDump: string;

  beforeAll(async () => {
    cluster();
    dir = await tempDir('local');
    firstDump = await makeDump(join(dir, 'gen1.dump'), generation('first', 2000));
    secondDump = await makeDump(join(dir, 'gen2.dump'), generation('second', 3000));
  });

  it('restores into a new database, swaps it in, and keeps the previous one', async () => {
    const live = uniqueDb('swap');
    const { config } = await writeTestConfig(dir, live);
    await copyFile(firstDump, join(dir, 'backups', 'a.dump'));

    const first = await runRefresh(config, quiet);
    expect(first.error).toBeUndefined();
    expect(first.outcome).toBe('succeeded');
    expect(first.exitCode).toBe(0);
    expect(first.restore?.database).toBe(`${live}__next`);
    expect(first.restore?.tables.find((table) => table.name === 'public.users')?.rows).toBe(2000);
    expect(first.backup?.format).toBe('custom');
    expect(await sql(live, 'SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 6000 }]);
    expect(await databasesLike(live)).toEqual([live]);

    // A newer backup arrives; someone is connected to staging during the swap.
    await copyFile(secondDump, join(dir, 'backups', 'b.dump'));
    const later = new Date(Date.now() + 1000);
    await utimes(join(dir, 'backups', 'b.dump'), later, later);
    const info = cluster();
    const lingering = new pg.Client({
      host: info.host,
      port: info.port,
      user: info.user,
      password: info.password,
      database: live,
    });
    lingering.on('error', () => undefined);
    await lingering.connect();
    await lingering.query('SELECT 1');

    const second = await runRefresh(config, quiet);
    expect(second.error).toBeUndefined();
    expect(second.outcome).toBe('succeeded');
    expect(second.swap?.terminatedSessions).toBe(1);
    expect(await sql(live, `SELECT count(*)::int AS n FROM users WHERE email LIKE 'second%'`)).toEqual([
      { n: 3000 },
    ]);
    // __prev is kept pristine for rollback: it takes no connections until someone allows them.
    expect(
      await sql('postgres', 'SELECT datallowconn FROM pg_database WHERE datname = $1', [`${live}__prev`]),
    ).toEqual([{ datallowconn: false }]);
    await sql('postgres', `ALTER DATABASE ${live}__prev ALLOW_CONNECTIONS true`);
    expect(
      await sql(`${live}__prev`, `SELECT count(*)::int AS n FROM users WHERE email LIKE 'first%'`),
    ).toEqual([{ n: 2000 }]);
    expect(await databasesLike(live)).toEqual([live, `${live}__prev`]);
    await expect(lingering.query('SELECT 1')).rejects.toThrow();
    await lingering.end().catch(() => undefined);

    const latest = JSON.parse(await readFile(join(config.report.dir, 'latest.json'), 'utf8'));
    expect(latest.runId).toBe(second.runId);
    expect(latest.steps.map((step: { name: string }) => step.name)).toEqual([
      'guard',
      'locate',
      'fetch',
      'inspect',
      'restore',
      'migrate',
      'verify',
      'swap',
      'report',
    ]);
    const own = JSON.parse(await readFile(join(config.report.dir, `${first.runId}.json`), 'utf8'));
    expect(own.outcome).toBe('succeeded');
  });

  it('refuses a truncated dump with exit 65 and leaves live staging exactly as it was', async () => {
    const live = uniqueDb('corrupt');
    const own = await tempDir('corrupt');
    const { config } = await writeTestConfig(own, live);
    await copyFile(firstDump, join(own, 'backups', 'good.dump'));
    expect((await runRefresh(config, quiet)).outcome).toBe('succeeded');
    const before = await sql(live, 'SELECT id, email FROM users ORDER BY id');

    const bad = join(own, 'backups', 'bad.dump');
    await copyFile(secondDump, bad);
    const { size } = await stat(bad);
    await truncate(bad, Math.floor(size * 0.6));
    const later = new Date(Date.now() + 1000);
    await utimes(bad, later, later);

    const record = await runRefresh(config, quiet);
    expect(record.outcome).toBe('failed');
    expect(record.exitCode).toBe(65);
    expect(record.error?.step).toBe('restore');
    expect(record.error?.message).toContain(bad);
    expect(record.error?.message).toMatch(/pg_restore .*said/);
    expect(await databasesLike(live)).toEqual([live]);
    expect(await sql(live, 'SELECT id, email FROM users ORDER BY id')).toEqual(before);
  });

  it('a damaged data block inside a masked table: exit 65 "damaged", not a failed run, live untouched', async () => {
    const live = uniqueDb('dmg');
    const own = await tempDir('dmg');
    const { config } = await writeTestConfig(own, live, {
      anonymize: { secret: 's', unknownPii: 'warn', tables: { 'public.users': { email: 'hash' } } },
    });
    await copyFile(firstDump, join(own, 'backups', 'good.dump'));
    expect((await runRefresh(config, quiet)).outcome).toBe('succeeded');
    const before = await sql(live, 'SELECT id, email FROM users ORDER BY id');

    // Same size, same header and table of contents: garbage near the end, in the last data block
    // (public.users, streamed through the masking worker).
    const bad = join(own, 'backups', 'bad.dump');
    const bytes = await readFile(secondDump);
    const from = Math.floor(bytes.length * 0.95);
    for (let i = from; i < from + 64; i++) bytes[i] = (bytes[i] ?? 0) ^ 0x5a;
    await writeFile(bad, bytes);
    const later = new Date(Date.now() + 1000);
    await utimes(bad, later, later);

    const record = await runRefresh(config, quiet);
    expect({ exitCode: record.exitCode, step: record.error?.step }).toEqual({
      exitCode: 65,
      step: 'restore',
    });
    expect(record.error?.message).toMatch(
      /the backup is damaged: .*bad\.dump: could not read the rows of public\.users/,
    );
    expect(record.error?.hint ?? '').not.toMatch(/role|rule/);
    expect(await databasesLike(live)).toEqual([live]);
    expect(await sql(live, 'SELECT id, email FROM users ORDER BY id')).toEqual(before);
  });

  it('exits 78 naming the key path of a bad config key', async () => {
    const own = await tempDir('badkey');
    const { file } = await writeTestConfig(own, uniqueDb('cfg'));
    const text = await readFile(file, 'utf8');
    await writeFile(file, `${text}\ntarget2: {}\n`.replace('jobs: 2', 'jobs: many'));
    const result = await runCli(['run', '--config', file]);
    expect(result.exitCode).toBe(78);
    expect(result.all).toContain('target.jobs');
    expect(result.all).toContain('target2: unknown key');
  });

  it('exits 69 when the target server is unreachable', async () => {
    const own = await tempDir('unreach');
    const live = uniqueDb('down');
    const { file } = await writeTestConfig(own, live, {});
    await copyFile(firstDump, join(own, 'backups', 'a.dump'));
    const text = (await readFile(file, 'utf8')).replaceAll(`:${cluster().port}/`, ':1/');
    await writeFile(file, text);
    const result = await runCli(['run', '--config', file, '--json']);
    expect(result.exitCode).toBe(69);
    expect(result.all).toMatch(/cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\//);
  });
});
