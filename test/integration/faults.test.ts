// Faults at every stage, each asserting the live database's rows are unchanged and the next run
// succeeds: SIGKILL during the download, a migration and just before the swap; the PostgreSQL
// server restarted during the restore; a full work directory. And grants after the swap.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { clusterQuery, HARNESS_PASSWORD, restartCluster, startCluster } from '../harness/pg-cluster.js';
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
import { S3_CREDENTIALS, type S3TestServer, startFaultyProxy, startS3Server } from '../harness/s3-server.js';

const SMALL = `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
  INSERT INTO users SELECT g, 'u' || g || '@x.example' FROM generate_series(1, 100) g;
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`;
const SLOW = `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, full_name text NOT NULL);
  INSERT INTO users SELECT g, 'u' || g || '@x.example', 'Name ' || g FROM generate_series(1, 150000) g;`;
const isRoot = process.getuid?.() === 0;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function liveWithMarker(live: string): Promise<void> {
  await sql('postgres', `CREATE DATABASE ${live}`);
  await sql(live, "CREATE TABLE marker (note text); INSERT INTO marker VALUES ('last week')");
}

const markerRows = (live: string) => sql(live, 'SELECT note FROM marker');

describe('faults', () => {
  let small: string;
  let s3: S3TestServer;
  beforeAll(async () => {
    Object.assign(process.env, S3_CREDENTIALS);
    cluster();
    const dir = await tempDir('faults');
    small = await makeDump(join(dir, 'small.dump'), SMALL);
    s3 = await startS3Server(join(dir, 'store'), ['backups']);
    const big = join(dir, 'big.dump');
    await writeFile(big, randomBytes(48 * 1024 * 1024));
    await s3.upload('backups', 'big/2026-11-25.dump', big);
    await s3.upload('backups', 'small/2026-11-25.dump', small);
  });
  afterAll(() => s3?.stop());

  it('SIGKILL during the download: no partial file is used, the next run cleans up and succeeds', async () => {
    const proxy = await startFaultyProxy(s3.endpoint, 0, { delayMsPerChunk: 20 });
    try {
      const dir = await tempDir('kill-download');
      const live = uniqueDb('killdl');
      await liveWithMarker(live);
      const source = (endpoint: string, prefix: string) => ({
        s3: { bucket: 'backups', prefix, endpoint, forcePathStyle: true },
      });
      const { file, config } = await writeTestConfig(dir, live, { source: source(proxy.endpoint, 'big/') });
      const child = runCli(['run', '--config', file], S3_CREDENTIALS);
      const downloads = join(config.workDir, 'downloads');
      await until('the download to start', async () =>
        (await readdir(downloads).catch(() => [])).some((n) => n.includes('.part-')),
      );
      child.kill('SIGKILL');
      await child;
      expect(await markerRows(live)).toEqual([{ note: 'last week' }]);
      const { config: next } = await writeTestConfig(dir, live, { source: source(s3.endpoint, 'small/') });
      const record = await runRefresh(next, quiet);
      expect(record.outcome).toBe('succeeded');
      expect(record.recovered).toBeDefined();
      expect((await readdir(join(next.workDir, 'downloads'))).filter((n) => n.includes('.part-'))).toEqual(
        [],
      );
    } finally {
      await proxy.close();
    }
  });

  it('SIGKILL during a migration and just before the swap: live untouched, the next run succeeds', async () => {
    for (const where of ['migration', 'before-swap'] as const) {
      const dir = await tempDir(`kill-${where}`);
      const live = uniqueDb(`kill_${where.replace('-', '_')}`);
      await liveWithMarker(live);
      await mkdir(join(dir, 'migrations'));
      await writeFile(
        join(dir, 'migrations', '001.sql'),
        where === 'migration' ? 'SELECT pg_sleep(60);\n' : 'SELECT 1;\n',
      );
      const extra = {
        migrations: { dir: join(dir, 'migrations') },
        ...(where === 'before-swap' && {
          verify: { checks: [{ name: 'slow check', sql: 'SELECT pg_sleep(60) IS NOT NULL' }] },
        }),
      };
      const { file } = await writeTestConfig(dir, live, extra);
      await copyFile(small, join(dir, 'backups', 'a.dump'));
      const child = runCli(['run', '--config', file]);
      await until(`the ${where}`, async () => {
        const rows = await sql<{ n: number }>(
          'postgres',
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND datname = '${live}__next'`,
        );
        return rows[0]!.n > 0;
      });
      child.kill('SIGKILL');
      await child;
      expect(await markerRows(live)).toEqual([{ note: 'last week' }]);
      // the killed run's own directory (its restore lists) is still there …
      expect(await readdir(join(dir, 'work', 'runs')), where).toHaveLength(1);
      await writeFile(join(dir, 'migrations', '001.sql'), 'SELECT 1;\n');
      const { config } = await writeTestConfig(dir, live, { migrations: { dir: join(dir, 'migrations') } });
      const record = await runRefresh(config, quiet);
      expect(record.outcome, where).toBe('succeeded');
      expect(record.recovered, where).toBeDefined();
      expect(await databasesLike(live)).toEqual([live, `${live}__prev`]);
      // … and gone with the next run's recovery (and that run's own when it ended)
      expect(await readdir(join(dir, 'work')), where).not.toContain('runs');
    }
  });

  it('the PostgreSQL server restarted during the restore: live untouched, exit 69, the next run succeeds', async () => {
    const { info, stop } = await startCluster();
    try {
      const admin = (database: string, text: string) => clusterQuery(info, database, text);
      await admin('postgres', 'CREATE DATABASE app');
      await admin('app', "CREATE TABLE marker (note text); INSERT INTO marker VALUES ('last week')");
      await admin('postgres', 'CREATE DATABASE prod');
      await admin('prod', SLOW);
      const dir = await tempDir('restart');
      await mkdir(join(dir, 'backups'));
      await execa(join(info.binDir, 'pg_dump'), ['-Fc', '-f', join(dir, 'backups', 'slow.dump'), 'prod'], {
        env: {
          PGHOST: info.host,
          PGPORT: String(info.port),
          PGUSER: info.user,
          PGPASSWORD: HARNESS_PASSWORD,
        },
      });
      const yaml = (anonymize: boolean) =>
        stringify({
          source: { local: { path: join(dir, 'backups', '*.dump') } },
          workDir: join(dir, 'work'),
          target: {
            url: `postgres://postgres@${info.host}:${info.port}/app`,
            allow: [`${info.host}:${info.port}/app`],
          },
          anonymize: anonymize
            ? {
                secret: 's',
                unknownPii: 'warn',
                tables: { 'public.users': { full_name: { fake: 'person.fullName' } } },
              }
            : { unknownPii: 'warn' },
          report: { dir: join(dir, 'reports') },
        });
      const running = runRefresh(parseConfig(yaml(true), process.env, dir), quiet);
      await until(
        'the masked restore',
        async () =>
          (
            await admin(
              'postgres',
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'staging-refresh:anonymize'",
            )
          )[0]?.n > 0,
      );
      await restartCluster(info);
      const record = await running;
      expect(record.outcome).toBe('failed');
      expect(record.exitCode, record.error?.message).toBe(69);
      expect(record.error?.step).toBe('restore');
      expect(await admin('app', 'SELECT note FROM marker')).toEqual([{ note: 'last week' }]);
      const next = await runRefresh(parseConfig(yaml(false), process.env, dir), quiet);
      expect(next.outcome).toBe('succeeded');
      expect(
        (await admin('postgres', "SELECT datname FROM pg_database WHERE datname LIKE 'app%' ORDER BY 1")).map(
          (r) => r.datname,
        ),
      ).toEqual(['app', 'app__prev']);
    } finally {
      await stop();
    }
  });

  it.skipIf(!isRoot)(
    'a work dir too small for the backup: exit 74 naming the directory and the space needed',
    async () => {
      const dir = await tempDir('full');
      const work = join(dir, 'work');
      await mkdir(work);
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', work]);
      try {
        const live = uniqueDb('full');
        await liveWithMarker(live);
        const { config } = await writeTestConfig(dir, live, {
          source: { s3: { bucket: 'backups', prefix: 'big/', endpoint: s3.endpoint, forcePathStyle: true } },
        });
        const record = await runRefresh(config, quiet);
        expect(record.exitCode).toBe(74);
        expect(record.error?.message).toMatch(
          new RegExp(
            `no space in ${join(work, 'downloads')}: the backup needs \\d+\\.\\d MiB \\(with margin\\), \\d+\\.\\d MiB are free`,
          ),
        );
        expect(await markerRows(live)).toEqual([{ note: 'last week' }]);

        // A disk that fills up for real (not caught by the preflight): still exit 74, still untouched.
        await writeFile(join(work, 'filler'), Buffer.alloc(16 * 1024 * 1024 - 4096)).catch(() => undefined);
        const { config: local } = await writeTestConfig(dir, live, {
          anonymize: { secret: 's', unknownPii: 'warn', tables: { 'public.users': { email: 'email' } } },
        });
        await copyFile(small, join(dir, 'backups', 'a.dump'));
        const full = await runRefresh(local, quiet);
        expect(full.exitCode).toBe(74);
        expect(full.error?.message).toMatch(/no space left in/);
        expect(await databasesLike(live)).toEqual([live]);
        expect(await markerRows(live)).toEqual([{ note: 'last week' }]);
        await rm(join(work, 'filler'));
      } finally {
        await execa('umount', [work]);
      }
    },
  );

  it.skipIf(!isRoot)(
    'the disk fills up during the S3 download: exit 74 naming the work dir, no partial file, live untouched',
    async () => {
      const proxy = await startFaultyProxy(s3.endpoint, 0, { delayMsPerChunk: 5 });
      const dir = await tempDir('fills-up');
      const work = join(dir, 'work');
      await mkdir(work);
      // Room for the 48 MiB backup with the preflight's margin: the preflight passes.
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', work]);
      try {
        const live = uniqueDb('fillsup');
        await liveWithMarker(live);
        const { config } = await writeTestConfig(dir, live, {
          source: {
            s3: { bucket: 'backups', prefix: 'big/', endpoint: proxy.endpoint, forcePathStyle: true },
          },
        });
        const downloads = join(work, 'downloads');
        const running = runRefresh(config, quiet);
        await until('the download to start', async () =>
          (await readdir(downloads).catch(() => [])).some((n) => n.includes('.part-')),
        );
        // Something else takes the rest of the volume while the download runs.
        await writeFile(join(work, 'filler'), Buffer.alloc(128 * 1024 * 1024)).catch(() => undefined);
        const record = await running;
        expect({ exitCode: record.exitCode, step: record.error?.step }).toEqual({
          exitCode: 74,
          step: 'fetch',
        });
        expect(record.error?.message).toContain(`no space left in ${downloads}`);
        expect((await readdir(downloads)).filter((n) => n.includes('.part-'))).toEqual([]);
        expect(await databasesLike(live)).toEqual([live]);
        expect(await markerRows(live)).toEqual([{ note: 'last week' }]);
      } finally {
        await proxy.close();
        await execa('umount', [work]);
      }
    },
  );

  it('re-applies grants on the new live database', async () => {
    const dir = await tempDir('grants');
    const live = uniqueDb('grants');
    const role = uniqueDb('reader');
    await sql('postgres', `CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    const { config } = await writeTestConfig(dir, live, {
      target: { ...(await baseTarget(live)), grants: [{ role, access: 'read' }] },
    });
    await copyFile(small, join(dir, 'backups', 'a.dump'));
    expect((await runRefresh(config, quiet)).outcome).toBe('succeeded');
    const info = cluster();
    const reader = new pg.Client({
      host: info.host,
      port: info.port,
      user: role,
      password: 'pw',
      database: live,
    });
    await reader.connect();
    try {
      expect((await reader.query('SELECT count(*)::int AS n FROM users')).rows).toEqual([{ n: 100 }]);
      await expect(reader.query('DELETE FROM users')).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
    }
  });
});

async function baseTarget(live: string) {
  const info = cluster();
  return {
    url: `postgres://${info.user}@${info.host}:${info.port}/${live}`,
    allow: [`${info.host}:${info.port}/${live}`],
    swapGrace: '1s',
  };
}
