// A machine missing each prerequisite: doctor names every missing tool with the command that
// installs it, and `npm test` / `npm run demo` (scripts/prerequisites.ts, not allowed to install
// here) list what they lack and print the one command to run first.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { prerequisiteChecks } from '../../src/commands/doctor.js';
import { cluster, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('missing prerequisites', () => {
  let empty: string;
  beforeAll(async () => {
    cluster();
    empty = await mkdtemp(join(tmpdir(), 'staging-refresh-empty-bin-'));
  });

  it('doctor names each missing PostgreSQL tool and git, with the command that installs it', async () => {
    const dir = await tempDir('doctor-missing');
    const { file, config } = await writeTestConfig(dir, uniqueDb('live'), {
      migrations: { git: { url: 'https://git.example.invalid/app.git', ref: 'main', path: 'db' } },
    });
    const checks = await prerequisiteChecks(config, { PG_BIN: empty, PATH: empty });
    expect(checks.map((c) => [c.name, c.ok])).toEqual([
      ['pg_restore', false],
      ['psql', false],
      ['vacuumdb', false],
      ['git', false],
    ]);
    for (const check of checks.slice(0, 3))
      expect(check.detail).toContain('apt-get install -y --no-install-recommends postgresql-client');
    expect(checks[3]?.detail).toContain('apt-get install -y --no-install-recommends git');

    // The same through the CLI, as a user sees it: one FAIL line per tool, exit 69.
    const doctor = await runCli(['doctor', '-c', file], { PG_BIN: empty, PATH: empty });
    expect(doctor.exitCode).toBe(69);
    for (const tool of ['pg_restore', 'psql', 'vacuumdb'])
      expect(doctor.all).toMatch(new RegExp(`FAIL\\s+${tool}\\s+missing, needed for .*postgresql-client`));
    expect(doctor.all).toMatch(/FAIL\s+git\s+missing, needed for cloning migrations.git.*install .* git`/);

    // With the tools there (this machine), the same checks pass and show versions.
    const present = await prerequisiteChecks(config);
    expect(present.filter((c) => c.name !== 'git').every((c) => c.ok && /\d+\.\d+/.test(c.detail))).toBe(
      true,
    );
  });

  it('a refresh with no pg_restore where PG_BIN points: exit 69 in inspect, naming where it looked; nothing created', async () => {
    const dir = await tempDir('run-missing');
    const live = uniqueDb('no_tools_live');
    const { file } = await writeTestConfig(dir, live);
    await writeFile(join(dir, 'backups', 'prod.dump'), 'PGDMP not really');
    const run = await runCli(['run', '-c', file], { PG_BIN: empty });
    expect(run.exitCode, run.all).toBe(69);
    expect(run.all).toMatch(/no PostgreSQL client tools found \(pg_restore in PG_BIN, PG_BIN_DIRS/);
    expect(
      await sql('postgres', 'SELECT datname FROM pg_database WHERE datname LIKE $1', [`${live}%`]),
    ).toEqual([]);
  });

  it('npm test on a machine without anything lists all of it and the one command to run', async () => {
    const result = await execa(process.execPath, ['--import', 'tsx', 'scripts/prerequisites.ts', 'test'], {
      cwd: ROOT,
      env: { PG_BIN: empty, PATH: empty, STAGING_REFRESH_NO_INSTALL: '1', CHROMIUM: '', PUSHGATEWAY: '' },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(1);
    for (const name of [
      'pg_restore',
      'initdb',
      'pg_ctl',
      'prometheus-pushgateway',
      'chromium',
      'kubectl',
      'git',
    ])
      expect(result.stderr).toMatch(new RegExp(`^  ${name} \\(`, 'm'));
    expect(result.stderr).toMatch(
      /apt-get update && (sudo )?apt-get install -y --no-install-recommends postgresql-client postgresql (util-linux )?prometheus-pushgateway chromium kubectl git/,
    );

    // util-linux (runuser) only when run as root, where the harness runs PostgreSQL as postgres.
    expect(result.stderr.includes('util-linux')).toBe(process.getuid?.() === 0);

    // What the demo needs is a subset: PostgreSQL only.
    const demo = await execa(process.execPath, ['--import', 'tsx', 'scripts/prerequisites.ts', 'demo'], {
      cwd: ROOT,
      env: { PG_BIN: empty, PATH: empty, STAGING_REFRESH_NO_INSTALL: '1' },
      extendEnv: false,
      reject: false,
    });
    expect(demo.exitCode).toBe(1);
    expect(demo.stderr).toMatch(
      /install -y --no-install-recommends postgresql-client postgresql( util-linux)?\n/,
    );
    expect(demo.stderr).not.toContain('chromium');

    // And on this machine (which has everything) both are silent and succeed.
    const here = await execa(process.execPath, ['--import', 'tsx', 'scripts/prerequisites.ts', 'test'], {
      cwd: ROOT,
      env: { STAGING_REFRESH_NO_INSTALL: '1' },
      reject: false,
    });
    expect(here.exitCode, here.stderr).toBe(0);
  });
});
