// Never lose staging, never touch production: signals, crashes, concurrent runs, the guard,
// rollback and secrets — each asserting that the live database is exactly as it was.
import { copyFile, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { markerPath } from '../../src/pipeline/crash-marker.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { lockKeys } from '../../src/pipeline/single-flight.js';
import { freePort } from '../harness/pg-cluster.js';
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

const SLOW = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, full_name text NOT NULL);
  INSERT INTO users SELECT g, 'u' || g || '@x.example', 'Name ' || g FROM generate_series(1, 400000) g;
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`;
const SMALL = (label: string) => `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, full_name text NOT NULL);
  INSERT INTO users SELECT g, '${label}' || g || '@x.example', 'Name ' || g FROM generate_series(1, 100) g;
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`;
// Two HMAC rules per row keep the masked restore busy for seconds, so tests can interrupt it.
const ANONYMIZE = { secret: 's', tables: { 'public.users': { email: 'hash', full_name: 'hash' } } };

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Is a session of this application connected to this database? (Scoped: test files run in parallel.) */
const active = async (application: string, database: string) =>
  (
    await sql<{ n: number }>(
      'postgres',
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = $2',
      [application, database],
    )
  )[0]!.n > 0;

/** A live staging database with rows to protect. */
async function liveWithMarker(live: string): Promise<void> {
  await sql('postgres', `CREATE DATABASE ${live}`);
  await sql(live, "CREATE TABLE marker (note text); INSERT INTO marker VALUES ('last week'), ('still here')");
}

describe('safety', () => {
  let slowDump: string;
  let smallA: string;
  let smallB: string;
  beforeAll(async () => {
    cluster();
    const dumps = await tempDir('safety-dumps');
    slowDump = await makeDump(join(dumps, 'slow.dump'), SLOW);
    smallA = await makeDump(join(dumps, 'a.dump'), SMALL('a'));
    smallB = await makeDump(join(dumps, 'b.dump'), SMALL('b'));
  });

  it('SIGTERM during restore: exit 143 within 10 s, no __next left, live untouched', async () => {
    const dir = await tempDir('sigterm');
    const live = uniqueDb('sigterm');
    await liveWithMarker(live);
    const { file, config } = await writeTestConfig(dir, live, { anonymize: ANONYMIZE });
    await copyFile(slowDump, join(dir, 'backups', 'slow.dump'));
    const child = runCli(['run', '--config', file]);
    await until('the masked restore to stream', () => active('staging-refresh:anonymize', `${live}__next`));
    const stopped = Date.now();
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(await databasesLike(live)).toEqual([live]);
    expect(await sql(live, 'SELECT note FROM marker ORDER BY 1')).toEqual([
      { note: 'last week' },
      { note: 'still here' },
    ]);
    const record = JSON.parse(await readFile(join(config.report.dir, 'latest.json'), 'utf8'));
    expect(record).toMatchObject({ outcome: 'aborted', exitCode: 143, error: { step: 'restore' } });
  });

  it('an abort that lands as the data section begins stops it: nothing after it runs', async () => {
    const dir = await tempDir('abort-at-data');
    const live = uniqueDb('abortdata');
    await liveWithMarker(live);
    const { config } = await writeTestConfig(dir, live, { anonymize: ANONYMIZE });
    await copyFile(slowDump, join(dir, 'backups', 'slow.dump'));
    // The abort fires while "restoring data" is logged: before the masked streams exist, the
    // moment a listener added later would never hear of.
    const controller = new AbortController();
    const messages: string[] = [];
    const log = pino(
      { level: 'info' },
      {
        write(line: string) {
          const { msg } = JSON.parse(line) as { msg: string };
          messages.push(msg);
          if (msg === 'restoring data') controller.abort(new Error('SIGTERM'));
        },
      },
    );
    const record = await runRefresh(config, { log, signal: controller.signal });
    expect(record).toMatchObject({ outcome: 'aborted', exitCode: 143, error: { step: 'restore' } });
    expect(messages).toContain('restoring data');
    expect(messages).not.toContain('restoring post-data');
    expect(await databasesLike(live)).toEqual([live]);
  });

  it('SIGTERM during a slow verify check: the query is cancelled, exit 143 at once, live untouched', async () => {
    const dir = await tempDir('sigterm-verify');
    const live = uniqueDb('sigtermverify');
    await liveWithMarker(live);
    const { file } = await writeTestConfig(dir, live, {
      verify: { checks: [{ name: 'slow check', sql: 'SELECT pg_sleep(120) IS NOT NULL' }] },
    });
    await copyFile(smallA, join(dir, 'backups', 'a.dump'));
    const child = runCli(['run', '--config', file]);
    await until('the verify check to run', () => active('staging-refresh:verify', `${live}__next`));
    const stopped = Date.now();
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    // Not the 10 s forced exit: the check was cancelled, and the run cleaned up after itself.
    expect(Date.now() - stopped).toBeLessThan(8_000);
    expect(result.all).toContain('aborted');
    expect(await active('staging-refresh:verify', `${live}__next`)).toBe(false);
    expect(await databasesLike(live)).toEqual([live]);
    expect(await sql(live, 'SELECT count(*)::int AS n FROM marker')).toEqual([{ n: 2 }]);
  });

  it('SIGKILL during restore: the next run removes the leftovers, records the crash and succeeds', async () => {
    const dir = await tempDir('sigkill');
    const live = uniqueDb('sigkill');
    await liveWithMarker(live);
    const { file, config } = await writeTestConfig(dir, live, { anonymize: ANONYMIZE });
    await copyFile(slowDump, join(dir, 'backups', 'slow.dump'));
    const child = runCli(['run', '--config', file]);
    await until('the masked restore to stream', () => active('staging-refresh:anonymize', `${live}__next`));
    child.kill('SIGKILL');
    await child;
    const marker = JSON.parse(
      await readFile(markerPath(config.workDir, `${cluster().host}:${cluster().port}/${live}`), 'utf8'),
    );
    expect(await databasesLike(live)).toEqual([live, `${live}__next`]);
    expect(await sql(live, 'SELECT count(*)::int AS n FROM marker')).toEqual([{ n: 2 }]);

    await copyFile(smallA, join(dir, 'backups', 'z.dump'));
    const later = new Date(Date.now() + 2000);
    await utimes(join(dir, 'backups', 'z.dump'), later, later);
    const record = await runRefresh(config, quiet);
    expect(record.outcome).toBe('succeeded');
    expect(record.recovered?.runId).toBe(marker.runId);
    expect(record.warnings.join('\n')).toContain(`the previous run ${marker.runId}`);
    expect(await databasesLike(live)).toEqual([live, `${live}__prev`]);
    expect(await sql(live, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 100 }]);
  });

  it('SIGTERM during a migration: the statement is cancelled, exit 143, no __next left', async () => {
    const dir = await tempDir('sigterm-migrate');
    const live = uniqueDb('sigmig');
    await liveWithMarker(live);
    await mkdir(join(dir, 'migrations'));
    await writeFile(join(dir, 'migrations', '001_slow.sql'), 'SELECT pg_sleep(60);\n');
    const { file, config } = await writeTestConfig(dir, live, {
      migrations: { dir: join(dir, 'migrations') },
    });
    await copyFile(smallA, join(dir, 'backups', 'a.dump'));
    const child = runCli(['run', '--config', file]);
    await until(
      'the migration to run',
      async () =>
        (
          await sql<{ n: number }>(
            'postgres',
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'staging-refresh:migrate' AND query LIKE '%pg_sleep%' AND datname = '${live}__next'`,
          )
        )[0]!.n > 0,
    );
    const stopped = Date.now();
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(Date.now() - stopped).toBeLessThan(10_000);
    expect(await databasesLike(live)).toEqual([live]);
    expect(await sql(live, 'SELECT count(*)::int AS n FROM marker')).toEqual([{ n: 2 }]);
    // Recorded as what happened: aborted by the signal, in the migrate step.
    const record = JSON.parse(await readFile(join(config.report.dir, 'latest.json'), 'utf8'));
    expect(record).toMatchObject({
      outcome: 'aborted',
      exitCode: 143,
      error: { code: 'aborted', step: 'migrate' },
    });
    expect(record.migrations[0].error.message).toContain('the run was stopped');
  });

  it('two concurrent runs: the second exits 75 and says who holds the lock', async () => {
    const dir = await tempDir('busy');
    const live = uniqueDb('busy');
    // The first run holds the lock through a verify check that sleeps: no reliance on a slow restore.
    const { file, config } = await writeTestConfig(dir, live, {
      verify: { checks: [{ name: 'hold the lock', sql: 'SELECT pg_sleep(4) IS NOT NULL' }] },
    });
    await copyFile(smallA, join(dir, 'backups', 'a.dump'));
    const first = runCli(['run', '--config', file]);
    const info = cluster();
    const [high, low] = lockKeys(`${info.host}:${info.port}/${live}`);
    await until(
      'the first run to hold the lock',
      async () =>
        (
          await sql<{ n: number }>(
            'postgres',
            `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int::oid AND objid = $2::int::oid`,
            [high, low],
          )
        )[0]!.n > 0,
    );
    const second = await runRefresh(config, quiet);
    expect(second.exitCode).toBe(75);
    expect(second.error?.message).toMatch(/another refresh of .* is running: run \S+@\S+ .*since \d{4}-/);
    // The loser reports nothing: no HTML, no e-mail, and latest.json is not its record.
    expect(second.report).toBeUndefined();
    const latest = await readFile(join(config.report.dir, 'latest.json'), 'utf8').catch(() => '{}');
    expect(JSON.parse(latest).runId).not.toBe(second.runId);
    expect((await first).exitCode).toBe(0);
    // The lock went with the first run: a third one gets it.
    const { config: quick } = await writeTestConfig(dir, live);
    expect((await runRefresh(quick, quiet)).exitCode).toBe(0);
  });

  it('a target on a production host is refused with exit 77 before any connection', async () => {
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const dir = await tempDir('prod');
      const { file } = await writeTestConfig(dir, 'app', { production: { hosts: [`127.0.0.1:${port}`] } });
      const text = (await readFile(file, 'utf8')).replaceAll(`:${cluster().port}/app`, `:${port}/app`);
      await writeFile(file, text);
      const result = await runCli(['run', '--config', file]);
      expect(result.exitCode).toBe(77);
      expect(result.all).toContain('production.hosts');
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('rollback puts the previous database back, and a second rollback undoes it', async () => {
    const dir = await tempDir('rollback');
    const live = uniqueDb('rollback');
    const { file, config } = await writeTestConfig(dir, live);
    await copyFile(smallA, join(dir, 'backups', 'a.dump'));
    expect((await runRefresh(config, quiet)).outcome).toBe('succeeded');
    await copyFile(smallB, join(dir, 'backups', 'b.dump'));
    const later = new Date(Date.now() + 2000);
    await utimes(join(dir, 'backups', 'b.dump'), later, later);
    expect((await runRefresh(config, quiet)).outcome).toBe('succeeded');
    const firstEmail = async () =>
      (await sql<{ email: string }>(live, 'SELECT email FROM users WHERE id = 1'))[0]!.email;
    expect(await firstEmail()).toBe('b1@x.example');
    const result = await runCli(['rollback', '--config', file]);
    expect(result.exitCode).toBe(0);
    expect(await firstEmail()).toBe('a1@x.example');
    expect((await runCli(['rollback', '--config', file])).exitCode).toBe(0);
    expect(await firstEmail()).toBe('b1@x.example');
  });

  it('the password appears in no log, record, report or process argument', async () => {
    const info = cluster();
    const dir = await tempDir('secret');
    const live = uniqueDb('secret');
    await mkdir(join(dir, 'migrations'));
    await writeFile(
      join(dir, 'migrations', '001_index.sql'),
      'CREATE INDEX users_email_idx ON users (email);\n',
    );
    const { file, config } = await writeTestConfig(dir, live, {
      anonymize: ANONYMIZE,
      migrations: { dir: join(dir, 'migrations') },
    });
    await copyFile(slowDump, join(dir, 'backups', 'slow.dump'));
    const child = runCli(['run', '--config', file, '--json'], {
      PGPASSWORD: info.password,
      LOG_LEVEL: 'debug',
    });
    const processLists: string[] = [];
    let running = true;
    void child.finally(() => {
      running = false;
    });
    while (running) {
      processLists.push((await execa('ps', ['-eo', 'args'])).stdout);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(processLists.some((list) => list.includes('pg_restore'))).toBe(true);
    const record = await readFile(join(config.report.dir, 'latest.json'), 'utf8');
    const html = await readFile(JSON.parse(record).report.html, 'utf8');
    for (const text of [String(result.all), record, html, ...processLists])
      expect(text).not.toContain(info.password);
  });
});
