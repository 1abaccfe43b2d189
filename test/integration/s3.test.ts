// The S3 source against a real S3-compatible server (s3rver), with the real SDK client.
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../src/commands/plan.js';
import { s3ObjectStore } from '../../src/infra/s3/object-store.js';
import { silentLogger } from '../../src/log/logger.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { fetchBackup } from '../../src/sources/s3/download-object.js';
import { locateS3 } from '../../src/sources/s3/locate-s3.js';
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
import {
  S3_CREDENTIALS,
  type S3TestServer,
  sha256Of,
  startFaultyProxy,
  startS3Server,
} from '../harness/s3-server.js';

const store = (endpoint: string, bucket = 'prod-backups') =>
  s3ObjectStore({ bucket, region: 'us-east-1', endpoint, forcePathStyle: true });
const signal = new AbortController().signal;

describe('S3 backup source', () => {
  let s3: S3TestServer;
  let big: string;
  let bigSha: string;
  let dump: string;

  beforeAll(async () => {
    Object.assign(process.env, S3_CREDENTIALS);
    cluster();
    const dir = await tempDir('s3');
    s3 = await startS3Server(join(dir, 'store'), ['prod-backups', 'many']);
    big = join(dir, 'big.bin');
    await writeFile(big, randomBytes(64 * 1024 * 1024 + 123));
    bigSha = await sha256Of(big);
    await s3.upload('prod-backups', 'blobs/big.bin', big, bigSha);
    dump = await makeDump(
      join(dir, 'prod.dump'),
      `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
       INSERT INTO users SELECT g, 'u' || g || '@x.example' FROM generate_series(1, 500) g;`,
    );
  });
  afterAll(() => s3?.stop());

  it('finds the newest matching backup among 1,500 objects (paginated)', async () => {
    const put = (key: string) =>
      s3.client.send(new PutObjectCommand({ Bucket: 'many', Key: key, Body: 'x' }));
    const keys = Array.from({ length: 1499 }, (_, i) => `pg/app/backup-${String(i).padStart(4, '0')}.dump`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map(put));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await put('pg/app/backup-0700-newest.dump');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await put('pg/app/README.txt');
    await put('other/backup-9999.dump');
    const newest = await locateS3(store(s3.endpoint, 'many'), 'pg/app/', '\\.dump$');
    expect(newest.key).toBe('pg/app/backup-0700-newest.dump');
  });

  it('downloads a 64 MiB object in ranged parts, byte-identical', async () => {
    const work = await tempDir('s3-big');
    const result = await fetchBackup({
      store: store(s3.endpoint),
      candidate: { source: 's3', key: 'blobs/big.bin', bytes: 0, lastModified: new Date() },
      workDir: work,
      partSize: 8 * 1024 * 1024,
      concurrency: 4,
      log: silentLogger(),
      signal,
    });
    expect(result).toMatchObject({
      reused: false,
      verifiedBy: 'sha256',
      retries: 0,
      bytes: 64 * 1024 * 1024 + 123,
    });
    expect(await sha256Of(result.path)).toBe(bigSha);
  });

  it('downloads what the listing named without waiting for HEAD, still checked against its SHA-256', async () => {
    const candidate = await locateS3(store(s3.endpoint), 'blobs/big', '\\.bin$');
    expect(candidate).toMatchObject({ bytes: 64 * 1024 * 1024 + 123, etag: expect.stringMatching(/\w/) });
    const result = await fetchBackup({
      store: store(s3.endpoint),
      candidate,
      workDir: await tempDir('s3-listed'),
      partSize: 8 * 1024 * 1024,
      concurrency: 4,
      log: silentLogger(),
      signal,
    });
    expect(result).toMatchObject({ reused: false, verifiedBy: 'sha256' });
    expect(await sha256Of(result.path)).toBe(bigSha);
  });

  it.each([
    ['the same size', 0],
    ['a smaller one', -3 * 1024 * 1024],
  ])(
    'fails as a changed backup when the listed object is replaced by %s, leaving no file',
    async (_, delta) => {
      const dir = await tempDir('s3-changed');
      const first = join(dir, 'first.bin');
      await writeFile(first, randomBytes(12 * 1024 * 1024));
      await s3.upload('prod-backups', 'moving/backup.bin', first);
      const candidate = await locateS3(store(s3.endpoint), 'moving/', '\\.bin$');
      const second = join(dir, 'second.bin');
      await writeFile(second, randomBytes(12 * 1024 * 1024 + delta));
      await s3.upload('prod-backups', 'moving/backup.bin', second);
      const workDir = join(dir, 'work');
      const failure = await fetchBackup({
        store: store(s3.endpoint),
        candidate,
        workDir,
        partSize: 8 * 1024 * 1024,
        concurrency: 4,
        log: silentLogger(),
        signal,
      }).catch((error: unknown) => error as Error & { hint?: string });
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/moving\/backup\.bin changed while it was being downloaded/);
      expect((failure as { hint?: string }).hint).toMatch(/nothing was restored/);
      expect(await readdir(join(workDir, 'downloads'))).toEqual([]);
    },
  );

  it('completes correctly through a proxy that answers 500 and drops connections', async () => {
    const proxy = await startFaultyProxy(s3.endpoint, 2);
    try {
      const result = await fetchBackup({
        store: store(proxy.endpoint),
        candidate: { source: 's3', key: 'blobs/big.bin', bytes: 0, lastModified: new Date() },
        workDir: await tempDir('s3-faulty'),
        partSize: 8 * 1024 * 1024,
        concurrency: 4,
        log: silentLogger(),
        signal,
        retry: { attempts: 8, baseMs: 10 },
      });
      expect(await sha256Of(result.path)).toBe(bigSha);
      expect(proxy.stats.failed500).toBeGreaterThan(0);
      expect(proxy.stats.dropped).toBeGreaterThan(0);
      expect(result.retries).toBe(proxy.stats.failed500 + proxy.stats.dropped);
    } finally {
      await proxy.close();
    }
  });

  it('refreshes end to end from S3, and reuses a verified download', async () => {
    await s3.upload('prod-backups', 'pg/app/2026-11-24.dump', dump);
    const dir = await tempDir('s3-run');
    const live = uniqueDb('s3run');
    const { config } = await writeTestConfig(dir, live, {
      source: {
        s3: { bucket: 'prod-backups', prefix: 'pg/app/', endpoint: s3.endpoint, forcePathStyle: true },
        maxAge: '1d',
      },
    });
    // plan downloads nothing: before a run it cannot read the columns yet…
    const before = await buildPlan(config);
    expect(before.anonymization?.note).toMatch(/^not downloaded yet/);
    const first = await runRefresh(config, quiet);
    expect(first.error).toBeUndefined();
    // …after one it reads the verified download of the same object
    const after = await buildPlan(config);
    expect(after.anonymization?.note).toBeUndefined();
    expect(after.tables).toContain('public.users');
    expect(after.backup.format).toBe('custom');
    expect(first.backup).toMatchObject({
      key: 'pg/app/2026-11-24.dump',
      source: 's3',
      format: 'custom',
      download: { verifiedBy: 'sha256', reused: false },
    });
    expect(await sql(live, 'SELECT count(*)::int AS n FROM users')).toEqual([{ n: 500 }]);
    const second = await runRefresh(config, quiet);
    expect(second.backup?.download?.reused).toBe(true);
  });

  it('a stored checksum that does not match: exit 65, nothing restored, live untouched', async () => {
    await s3.upload('prod-backups', 'bad/2026-11-25.dump', dump, 'f'.repeat(64));
    const dir = await tempDir('s3-bad');
    const live = uniqueDb('s3bad');
    await sql('postgres', `CREATE DATABASE ${live}`);
    await sql(live, "CREATE TABLE marker (note text); INSERT INTO marker VALUES ('untouched')");
    const { config } = await writeTestConfig(dir, live, {
      source: { s3: { bucket: 'prod-backups', prefix: 'bad/', endpoint: s3.endpoint, forcePathStyle: true } },
    });
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(65);
    expect(record.error).toMatchObject({
      step: 'fetch',
      message: expect.stringContaining('SHA-256 mismatch'),
    });
    expect(await databasesLike(live)).toEqual([live]);
    expect(await sql(live, 'SELECT note FROM marker')).toEqual([{ note: 'untouched' }]);
  });

  it('a wrong bucket or bad credentials: exit 69 naming the bucket and endpoint', async () => {
    const dir = await tempDir('s3-wrong');
    const { file } = await writeTestConfig(dir, uniqueDb('s3wrong'), {
      source: { s3: { bucket: 'no-such-bucket', endpoint: s3.endpoint, forcePathStyle: true } },
    });
    const wrongBucket = await runCli(['run', '--config', file], S3_CREDENTIALS);
    expect(wrongBucket.exitCode).toBe(69);
    expect(wrongBucket.all).toContain(`s3://no-such-bucket at ${s3.endpoint}`);

    const other = await tempDir('s3-creds');
    const { file: credsFile } = await writeTestConfig(other, uniqueDb('s3creds'), {
      source: { s3: { bucket: 'prod-backups', endpoint: s3.endpoint, forcePathStyle: true } },
    });
    // s3rver checks the access key id but not the signature, so "bad credentials" is an unknown key id here.
    const badCredentials = await runCli(['run', '--config', credsFile], {
      ...S3_CREDENTIALS,
      AWS_ACCESS_KEY_ID: 'NOT-A-KEY',
    });
    expect(badCredentials.exitCode).toBe(69);
    expect(badCredentials.all).toContain(`s3://prod-backups at ${s3.endpoint}`);
    expect(badCredentials.all).toMatch(/credentials/);
    expect(badCredentials.all).not.toContain(S3_CREDENTIALS.AWS_SECRET_ACCESS_KEY);
  });
});
