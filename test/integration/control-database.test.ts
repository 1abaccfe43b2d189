// The control database on first use: created by the first run when the role may create
// databases; otherwise the run and doctor both name the exact statement, and running that
// statement is all it takes.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/commands/doctor.js';
import { ConfigError } from '../../src/errors.js';
import { ensureControlDatabase } from '../../src/history/control-database.js';
import { parsePgUrl } from '../../src/infra/pg/connection.js';
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

const PRODUCTION = `CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL);
  INSERT INTO users SELECT g, 'n' || g FROM generate_series(1, 1000) g;`;

describe('control database on first use', () => {
  const role = uniqueDb('nocreatedb');
  beforeAll(async () => {
    const info = cluster();
    // A role that may log in (same password as the harness's, from PGPASSWORD) but not create databases.
    await sql('postgres', `CREATE ROLE ${role} LOGIN NOCREATEDB PASSWORD '${info.password}'`);
  });
  afterAll(async () => {
    await sql('postgres', `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  });

  it('the first run creates it and stores the run there', async () => {
    const info = cluster();
    const dir = await tempDir('control-create');
    const control = uniqueDb('control');
    const { file } = await writeTestConfig(dir, uniqueDb('live'), {
      control: { url: `postgres://${info.user}@${info.host}:${info.port}/${control}` },
    });
    await makeDump(join(dir, 'backups', 'prod.dump'), PRODUCTION);
    expect(await databasesLike(control)).toEqual([]);

    const doctor = await runCli(['doctor', '-c', file], { PGPASSWORD: info.password });
    expect(doctor.all).toMatch(/ok\s+control database\s+.*does not exist yet: the first run creates it/);

    const run = await runCli(['run', '-c', file], { PGPASSWORD: info.password });
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toContain('control database created');
    expect(await databasesLike(control)).toEqual([control]);
    const stored = await sql<{ n: string }>(control, 'SELECT count(*) AS n FROM staging_refresh.runs');
    expect(Number(stored[0]?.n)).toBe(1);
    // The next time it is simply there.
    expect(
      await ensureControlDatabase(
        parsePgUrl(`postgres://${info.user}@${info.host}:${info.port}/${control}`),
        'postgres',
      ),
    ).toBe('existed');
  });

  it('without CREATEDB the run and doctor name the statement, and that statement is enough', async () => {
    const info = cluster();
    const dir = await tempDir('control-refused');
    const control = uniqueDb('control');
    const url = `postgres://${role}@${info.host}:${info.port}/${control}`;
    const { config } = await writeTestConfig(dir, uniqueDb('live'), { control: { url } });
    await makeDump(join(dir, 'backups', 'prod.dump'), PRODUCTION);
    const statement = `CREATE DATABASE "${control}" OWNER "${role}";`;

    const record = await runRefresh(config, quiet);
    expect(record.outcome).toBe('failed');
    expect(record.exitCode).toBe(78);
    expect(record.error?.message).toContain(`role ${role} may not create databases`);
    expect(record.error?.hint).toContain(statement);

    const checks = await runDoctor(config);
    const check = checks.find((c) => c.name === 'control database');
    expect(check).toMatchObject({ ok: false, failCode: 78 });
    expect(check?.detail).toContain(statement);

    await expect(ensureControlDatabase(parsePgUrl(url), 'postgres')).rejects.toBeInstanceOf(ConfigError);
    await sql('postgres', statement);
    expect(await ensureControlDatabase(parsePgUrl(url), 'postgres')).toBe('existed');
    const again = await runRefresh(config, quiet);
    expect(again.outcome, again.error?.message).toBe('succeeded');
  });
});
