// Staging is never left refusing connections: a SIGKILL while the swap waits for sessions is
// repaired by the next run, a SIGTERM there puts things back at once, the previous generation
// survives a swap that did not happen, and grants that fail after the renames are recorded as
// what they are.
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/commands/doctor.js';
import { markerPath } from '../../src/pipeline/crash-marker.js';
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

const SMALL = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
  INSERT INTO users SELECT g, 'u' || g || '@x.example' FROM generate_series(1, 100) g;`;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const allowsConnections = async (database: string) =>
  (
    await sql<{ ok: boolean }>('postgres', 'SELECT datallowconn AS ok FROM pg_database WHERE datname = $1', [
      database,
    ])
  )[0]?.ok;

/** Live staging with rows to protect, a previous generation, and a session that keeps the swap waiting. */
async function liveWithSession(live: string): Promise<pg.Client> {
  await sql('postgres', `CREATE DATABASE ${live}`);
  await sql(live, "CREATE TABLE marker (note text); INSERT INTO marker VALUES ('last week')");
  await sql('postgres', `CREATE DATABASE ${live}__prev`);
  await sql(`${live}__prev`, "CREATE TABLE marker (note text); INSERT INTO marker VALUES ('two weeks ago')");
  const info = cluster();
  const session = new pg.Client({
    host: info.host,
    port: info.port,
    user: info.user,
    password: info.password,
    database: live,
  });
  await session.connect();
  session.on('error', () => undefined);
  return session;
}

describe('swap recovery', () => {
  let dump: string;
  beforeAll(async () => {
    cluster();
    dump = await makeDump(join(await tempDir('swap-dumps'), 'a.dump'), SMALL);
  });

  it('SIGKILL while the swap waits: the next run lets live staging take connections again, rows unchanged', async () => {
    const dir = await tempDir('swap-kill');
    const live = uniqueDb('swapkill');
    const session = await liveWithSession(live);
    const { file, config } = await writeTestConfig(dir, live);
    const text = (await readFile(file, 'utf8')).replace('swapGrace: 1s', 'swapGrace: 60s');
    await writeFile(file, text);
    await copyFile(dump, join(dir, 'backups', 'a.dump'));
    const child = runCli(['run', '--config', file]);
    await until('the swap to close live staging', async () => (await allowsConnections(live)) === false);
    child.kill('SIGKILL');
    await child;
    await session.end().catch(() => undefined);
    expect(await allowsConnections(live)).toBe(false); // what the kill left behind
    const marker = JSON.parse(
      await readFile(markerPath(config.workDir, `${cluster().host}:${cluster().port}/${live}`), 'utf8'),
    );
    expect(marker.phase).toBe('swap');

    // The next run fails before its own swap (a check fails), and still repairs live staging.
    const { config: failing } = await writeTestConfig(dir, live, {
      verify: { checks: [{ name: 'no', sql: 'SELECT false' }] },
    });
    const record = await runRefresh(failing, quiet);
    expect(record.error?.step).toBe('verify');
    expect(record.recovered).toMatchObject({ runId: marker.runId, phase: 'swap' });
    expect(record.warnings.join('\n')).toContain('accepts them again');
    expect(await allowsConnections(live)).toBe(true);
    expect(await sql(live, 'SELECT note FROM marker')).toEqual([{ note: 'last week' }]);
    expect(await sql(`${live}__prev`, 'SELECT note FROM marker')).toEqual([{ note: 'two weeks ago' }]);
  });

  it('SIGTERM while the swap waits: exit 143 within 10 s, live staging takes connections at once, __prev kept', async () => {
    const dir = await tempDir('swap-term');
    const live = uniqueDb('swapterm');
    const session = await liveWithSession(live);
    try {
      const { file, config } = await writeTestConfig(dir, live);
      const text = (await readFile(file, 'utf8')).replace('swapGrace: 1s', 'swapGrace: 60s');
      await writeFile(file, text);
      await copyFile(dump, join(dir, 'backups', 'a.dump'));
      const child = runCli(['run', '--config', file]);
      await until('the swap to close live staging', async () => (await allowsConnections(live)) === false);
      const stopped = Date.now();
      child.kill('SIGTERM');
      const result = await child;
      expect(result.exitCode).toBe(143);
      expect(Date.now() - stopped).toBeLessThan(10_000);
      expect(await allowsConnections(live)).toBe(true);
      expect(await session.query('SELECT note FROM marker')).toMatchObject({ rows: [{ note: 'last week' }] });
      expect(await databasesLike(live)).toEqual([live, `${live}__prev`]);
      expect(await sql(`${live}__prev`, 'SELECT note FROM marker')).toEqual([{ note: 'two weeks ago' }]);
      const record = JSON.parse(await readFile(join(config.report.dir, 'latest.json'), 'utf8'));
      expect(record).toMatchObject({ outcome: 'aborted', exitCode: 143, error: { step: 'swap' } });
    } finally {
      await session.end().catch(() => undefined);
    }
  });

  it('a refresh role that cannot end sessions: doctor says so with the fix, and the run is refused before any change', async () => {
    const dir = await tempDir('swap-role');
    const live = uniqueDb('swaprole');
    const role = uniqueDb('role');
    await sql('postgres', `CREATE ROLE ${role} LOGIN CREATEDB PASSWORD 'role-pw-15'`);
    await sql('postgres', `CREATE DATABASE ${live} OWNER ${role}`);
    const info = cluster();
    const { config } = await writeTestConfig(dir, live);
    config.target.url = `postgres://${role}:role-pw-15@${info.host}:${info.port}/${live}`;
    await copyFile(dump, join(dir, 'backups', 'a.dump'));
    const checks = await runDoctor(config);
    const check = checks.find((c) => c.name === 'may end sessions');
    expect(check).toMatchObject({ ok: false, failCode: 77 });
    expect(check?.detail).toContain(`GRANT pg_signal_backend TO "${role}"`);
    const record = await runRefresh(config, quiet);
    expect(record).toMatchObject({ outcome: 'refused', exitCode: 77 });
    expect(record.error?.message).toContain('pg_signal_backend');
    expect(record.steps.map((step) => step.name)).toEqual(['guard', 'report']);
    expect(await databasesLike(live)).toEqual([live]);
    // With the grant, both agree it may.
    await sql('postgres', `GRANT pg_signal_backend TO ${role}`);
    expect((await runDoctor(config)).find((c) => c.name === 'may end sessions')?.ok).toBe(true);
  });

  it('grants that fail after the renames: recorded as "replaced, grants failed", with the swap section', async () => {
    const dir = await tempDir('swap-grants');
    const live = uniqueDb('swapgrants');
    await sql('postgres', `CREATE DATABASE ${live}`);
    const { config } = await writeTestConfig(dir, live);
    config.target.grants = [{ role: 'no_such_role_15', access: 'read' }];
    await copyFile(dump, join(dir, 'backups', 'a.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(1);
    expect(record.error).toMatchObject({ code: 'grants-failed', step: 'swap' });
    expect(record.error?.message).toContain('staging was replaced');
    expect(record.swap).toMatchObject({ live, previous: `${live}__prev` });
    expect(record.swap?.grantsError).toContain('no_such_role_15');
    expect(await sql(live, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 100 }]);
  });
});
