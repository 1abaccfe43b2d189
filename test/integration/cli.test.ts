// The CLI as a user meets it: help, version, doctor, plan, and usage errors.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cluster, makeDump, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

describe('CLI', () => {
  beforeAll(() => void cluster());

  it('prints help with examples and exit codes, and the version', async () => {
    const help = await runCli(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('78 bad config');
    const version = await runCli(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await runCli(['frobnicate'])).exitCode).toBe(64);
    expect((await runCli(['lint'])).exitCode).toBe(64);
  });

  it('doctor: tools, the server, CREATE DATABASE and the work dir', async () => {
    const dir = await tempDir('doctor');
    const { file } = await writeTestConfig(dir, uniqueDb('doctor'));
    const empty = await runCli(['doctor', '--config', file]);
    expect(empty.exitCode).toBe(65);
    expect(empty.stdout).toMatch(/FAIL\s+backup source\s+no backup found at .*backups\/\*\.dump/);
    await mkdir(join(dir, 'backups'), { recursive: true });
    await writeFile(join(dir, 'backups', 'app.dump'), 'PGDMP');
    const ok = await runCli(['doctor', '--config', file]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/ok\s+backup source\s+.*newest backup .*app\.dump \(5 bytes/);
    expect(ok.stdout).toMatch(/ok\s+pg_restore\s+.*pg_restore \(PostgreSQL\) \d+/);
    expect(ok.stdout).toMatch(/ok\s+target reachable\s+.*PostgreSQL \d+/);
    expect(ok.stdout).toMatch(/ok\s+may CREATE DATABASE/);
    expect(ok.stdout).toMatch(/ok\s+work dir\s+.* writable, [\d.]+ GiB free/);

    const role = uniqueDb('nocreatedb');
    await sql('postgres', `CREATE ROLE ${role} LOGIN PASSWORD 'pw-${role}'`);
    const { file: limited } = await writeTestConfig(dir, 'app');
    const text = (await readFile(limited, 'utf8')).replace('postgres://postgres@', `postgres://${role}@`);
    await writeFile(limited, text);
    const refused = await runCli(['doctor', '--config', limited], { PGPASSWORD: `pw-${role}` });
    expect(refused.exitCode).toBe(77);
    expect(refused.stdout).toMatch(new RegExp(`FAIL\\s+may CREATE DATABASE\\s+role ${role} lacks CREATEDB`));
  });

  it('plan: names the backup, its size, age, format and tables, and changes nothing', async () => {
    const dir = await tempDir('plan');
    const live = uniqueDb('plan');
    const { file } = await writeTestConfig(dir, live);
    const dump = await makeDump(
      join(dir, 'prod.dump'),
      'CREATE TABLE users (id int); CREATE TABLE orders (id int);',
    );
    await copyFile(dump, join(dir, 'backups', 'b.dump'));
    const plan = await runCli(['plan', '--config', file, '--json']);
    expect(plan.exitCode).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({
      backup: { key: join(dir, 'backups', 'b.dump'), format: 'custom' },
      tables: ['public.orders', 'public.users'],
    });
    expect(
      await sql('postgres', 'SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE $1', [`${live}%`]),
    ).toEqual([{ n: 0 }]);
  });
});
