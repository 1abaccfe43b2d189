// npm run bench -- [--rows 20000000] [--reps 3] [--jobs 2]
// Generates a production-like dataset, then measures in one run, with a warm-up and medians of
// --reps repetitions: bare `pg_restore -j N`; the full `run` (S3 download + restore + anonymize +
// post-data + swap, no migrations); restore followed by in-place UPDATE masking; the ranged S3
// download against one plain GET; the lock observer's overhead on a CREATE INDEX; and the tool's
// peak RSS on two dataset sizes. Prints a table and, as its last line, one JSON object.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { parsePgUrl } from '../src/infra/pg/connection.js';
import { s3ObjectStore } from '../src/infra/s3/object-store.js';
import { silentLogger } from '../src/log/logger.js';
import type { RunRecord } from '../src/record/run-record.js';
import { fetchBackup } from '../src/sources/s3/download-object.js';
import { loadParser, parseStatements } from '../src/sql/parse-sql.js';
import { sqlAdapter } from '../src/stages/migrate/adapters/sql-adapter.js';
import { executeMigration } from '../src/stages/migrate/execute-migration.js';
import { clusterQuery, startCluster } from '../test/harness/pg-cluster.js';
import { S3_CREDENTIALS, startS3Server } from '../test/harness/s3-server.js';
import { Cleanup } from './lib/cleanup.js';
import { productionRules, productionSql } from './lib/production-db.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000000' },
    reps: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '2' },
  },
});
const rows = Number(values.rows);
const reps = Math.max(1, Number(values.reps));
const jobs = Number(values.jobs);
const log = (text: string) => process.stderr.write(`${text}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// Stopped at the end, and on Ctrl-C / SIGTERM too (lib/cleanup.ts).
const cleanup = new Cleanup();
cleanup.installSignalHandlers(log);
const work = await cleanup.acquire('the work dir', mkdtemp(join(tmpdir(), 'staging-refresh-bench-')), (dir) =>
  rm(dir, { recursive: true, force: true }),
);
const { info } = await cleanup.acquire('PostgreSQL', startCluster(), (cluster) => cluster.stop());
const s3 = await cleanup.acquire('the S3 server', startS3Server(join(work, 's3'), ['bench']), (server) =>
  server.stop(),
);
const env = { PGHOST: info.host, PGPORT: String(info.port), PGUSER: info.user, PGPASSWORD: info.password };
const admin = (database: string, text: string) => clusterQuery(info, database, text);

/** Warm-up once, then `reps` timed runs of fn (which returns its own wall time in ms). */
async function measure(label: string, fn: () => Promise<number>): Promise<number> {
  log(`• ${label}: warm-up`);
  await fn();
  const times: number[] = [];
  for (let i = 1; i <= reps; i++) {
    times.push(await fn());
    log(`  ${label} #${i}: ${((times[times.length - 1] as number) / 1000).toFixed(2)} s`);
  }
  return median(times);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function makeDataset(name: string, orders: number): Promise<{ dump: string; bytes: number }> {
  log(`generating ${name}: ${orders.toLocaleString('en')} orders …`);
  await admin('postgres', `CREATE DATABASE ${name}`);
  await admin(name, productionSql(orders));
  await admin(name, 'VACUUM ANALYZE');
  const dump = join(work, `${name}.dump`);
  await execa(join(info.binDir, 'pg_dump'), ['-Fc', '-f', dump, name], { env });
  await admin('postgres', `DROP DATABASE ${name}`);
  return { dump, bytes: (await stat(dump)).size };
}

let seq = 0;
async function bareRestore(dump: string): Promise<number> {
  const db = `bare_${seq++}`;
  await admin('postgres', `CREATE DATABASE ${db}`);
  const ms = await timed(() =>
    execa(
      join(info.binDir, 'pg_restore'),
      [`--jobs=${jobs}`, '--no-owner', '--no-privileges', `--dbname=${db}`, dump],
      { env },
    ),
  );
  await admin('postgres', `DROP DATABASE ${db}`);
  return ms;
}

async function restoreThenUpdate(dump: string): Promise<number> {
  const db = `upd_${seq++}`;
  await admin('postgres', `CREATE DATABASE ${db}`);
  const ms = await timed(async () => {
    await execa(
      join(info.binDir, 'pg_restore'),
      [`--jobs=${jobs}`, '--no-owner', '--no-privileges', `--dbname=${db}`, dump],
      { env },
    );
    await admin(
      db,
      `UPDATE users SET email = 'u_' || left(md5(email), 16) || '@example.invalid', full_name = md5(full_name),
              phone = repeat('*', greatest(length(phone) - 2, 0)) || right(phone, 2), birth_date = birth_date + ((id % 61)::int - 30);
       UPDATE orders SET shipping_address = md5(shipping_address);
       UPDATE payments SET card_number = repeat('*', 15) || right(card_number, 4), iban = md5(iban);
       TRUNCATE sessions;`,
    );
    await admin(db, 'VACUUM ANALYZE');
  });
  await admin('postgres', `DROP DATABASE ${db}`);
  return ms;
}

const ANONYMIZE = productionRules('bench-secret');

async function fullRun(prefix: string): Promise<RunRecord> {
  const dir = join(work, `run-${prefix.replace(/\W/g, '')}`);
  await mkdir(dir, { recursive: true });
  const config = {
    source: { s3: { bucket: 'bench', prefix, endpoint: s3.endpoint, forcePathStyle: true }, maxAge: '8d' },
    workDir: join(dir, 'work'),
    target: {
      url: `postgres://${info.user}@${info.host}:${info.port}/app`,
      allow: [`${info.host}:${info.port}/app`],
      jobs,
      keepPrevious: 0,
    },
    anonymize: ANONYMIZE,
    report: { dir: join(dir, 'reports') },
  };
  await writeFile(join(dir, 'config.yaml'), stringify(config));
  await rm(join(dir, 'work', 'downloads'), { recursive: true, force: true }); // measure the download every time
  const result = await execa(
    process.execPath,
    [resolve('dist/cli.js'), 'run', '--config', join(dir, 'config.yaml'), '--json'],
    {
      env: { PGPASSWORD: info.password, LOG_LEVEL: 'warn', ...S3_CREDENTIALS },
      reject: false,
      cancelSignal: cleanup.signal,
    },
  );
  const record = JSON.parse(result.stdout) as RunRecord;
  if (record.outcome !== 'succeeded') throw new Error(`bench run failed: ${record.error?.message}`);
  return record;
}

/** ranged: the product's fetch (parallel ranges, SHA-256 checked); single: one plain GET to a file; single-sha256: the same, hashing as it streams. */
async function download(key: string, mode: 'ranged' | 'single' | 'single-sha256'): Promise<number> {
  const store = s3ObjectStore({
    bucket: 'bench',
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
  });
  const dir = await mkdtemp(join(work, 'dl-'));
  const ms = await timed(async () => {
    if (mode === 'ranged') {
      await fetchBackup({
        store,
        candidate: { source: 's3', key, bytes: 0, lastModified: new Date() },
        workDir: dir,
        partSize: 16 * 1024 * 1024,
        concurrency: 4,
        log: silentLogger(),
        signal: new AbortController().signal,
      });
    } else {
      const body = await store.get(key);
      const hash = createHash('sha256');
      if (mode === 'single-sha256') body.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(body, createWriteStream(join(dir, 'single')));
      hash.digest('hex');
    }
  });
  await rm(dir, { recursive: true, force: true });
  return ms;
}

async function observerRun(enabled: boolean): Promise<number> {
  await loadParser();
  const target = parsePgUrl(`postgres://${info.user}@${info.host}:${info.port}/observe`);
  const statements = parseStatements('CREATE INDEX bench_reference_idx ON orders (reference)');
  const result = await executeMigration({
    target,
    adapter: sqlAdapter(),
    file: { id: 'bench', name: 'bench', file: 'bench.sql', sql: '', kind: 'versioned' },
    statements,
    transactional: true,
    recordHistory: false,
    observer: {
      enabled,
      intervalMs: 100,
      probes: true,
      probeIntervalMs: 25,
      probeLockTimeoutMs: 50,
      maxProbedTables: 8,
    },
    log: silentLogger(),
    signal: new AbortController().signal,
  });
  await admin('observe', 'DROP INDEX bench_reference_idx');
  if (!result.ok) throw new Error(result.error?.message);
  return result.durationMs;
}

try {
  process.env.PGPASSWORD = info.password;
  Object.assign(process.env, S3_CREDENTIALS);
  const big = await makeDataset('bench_big', rows);
  const small = await makeDataset('bench_small', Math.max(1000, Math.floor(rows / 4)));
  log(`dumps: ${(big.bytes / 1e6).toFixed(0)} MB and ${(small.bytes / 1e6).toFixed(0)} MB; uploading to S3`);
  await s3.upload('bench', 'big/prod.dump', big.dump);
  await s3.upload('bench', 'small/prod.dump', small.dump);

  const bare = await measure(`bare pg_restore -j${jobs}`, () => bareRestore(big.dump));
  const runs: RunRecord[] = [];
  const full = await measure('full run (S3 + restore + anonymize + post-data + swap)', async () => {
    const record = await fullRun('big/');
    runs.push(record);
    return record.durationMs;
  });
  const update = await measure('restore + in-place UPDATE masking + VACUUM', () =>
    restoreThenUpdate(big.dump),
  );
  const ranged = await measure('S3 ranged download (4 × 16 MiB parts, SHA-256 checked)', () =>
    download('big/prod.dump', 'ranged'),
  );
  const single = await measure('S3 single GET', () => download('big/prod.dump', 'single'));
  const singleVerified = await measure('S3 single GET, SHA-256 while streaming', () =>
    download('big/prod.dump', 'single-sha256'),
  );
  await admin('postgres', 'CREATE DATABASE observe');
  await execa(
    join(info.binDir, 'pg_restore'),
    [`--jobs=${jobs}`, '--no-owner', '--dbname=observe', big.dump],
    { env },
  );
  const withObserver: number[] = [];
  const without: number[] = [];
  await observerRun(true);
  for (let i = 0; i < reps; i++) {
    without.push(await observerRun(false));
    withObserver.push(await observerRun(true));
  }
  const smallRecord = await fullRun('small/');
  const last = runs[runs.length - 1] as RunRecord;
  const transformRows = last.anonymize?.tables.reduce((sum, t) => sum + t.rows, 0) ?? 0;
  const restoreStep = median(runs.map((r) => r.steps.find((s) => s.name === 'restore')?.durationMs ?? 0));
  const figures = {
    rows,
    reps,
    jobs,
    dumpBytes: big.bytes,
    bareRestoreMs: Math.round(bare),
    fullRunMs: Math.round(full),
    fullRunRestoreStepMs: Math.round(restoreStep),
    restoreThenUpdateMs: Math.round(update),
    ratioFullRunToBare: Number((full / bare).toFixed(3)),
    ratioRestoreStepToBare: Number((restoreStep / bare).toFixed(3)),
    ratioUpdateToBare: Number((update / bare).toFixed(3)),
    maskedRows: transformRows,
    maskedRowsPerSecond: last.anonymize?.tables.map((t) => ({
      table: t.name,
      rowsPerSecond: t.rowsPerSecond,
    })),
    downloadRangedMBps: Number((big.bytes / 1e6 / (ranged / 1000)).toFixed(1)),
    downloadSingleMBps: Number((big.bytes / 1e6 / (single / 1000)).toFixed(1)),
    ratioRangedToSingle: Number((single / ranged).toFixed(3)),
    downloadSingleVerifiedMBps: Number((big.bytes / 1e6 / (singleVerified / 1000)).toFixed(1)),
    ratioRangedToSingleVerified: Number((singleVerified / ranged).toFixed(3)),
    createIndexWithoutObserverMs: Math.round(median(without)),
    createIndexWithObserverMs: Math.round(median(withObserver)),
    observerOverheadPct: Number(((median(withObserver) / median(without) - 1) * 100).toFixed(1)),
    peakRssBytesLarge: last.resources?.peakRssBytes,
    peakRssBytesSmall: smallRecord.resources?.peakRssBytes,
    dumpBytesSmall: small.bytes,
  };
  const row = (label: string, value: string) => process.stdout.write(`${label.padEnd(52)} ${value}\n`);
  process.stdout.write(
    `\nstaging-refresh bench: ${rows.toLocaleString('en')} orders, dump ${(big.bytes / 1e6).toFixed(0)} MB, -j${jobs}, median of ${reps}\n`,
  );
  row('bare pg_restore', `${(bare / 1000).toFixed(2)} s`);
  row(
    'full run (S3+restore+anonymize+post-data+swap)',
    `${(full / 1000).toFixed(2)} s  (${figures.ratioFullRunToBare}× bare)`,
  );
  row(
    '  of which the restore step (restore+anonymize)',
    `${(restoreStep / 1000).toFixed(2)} s  (${figures.ratioRestoreStepToBare}× bare)`,
  );
  row(
    'restore + in-place UPDATE masking + VACUUM',
    `${(update / 1000).toFixed(2)} s  (${figures.ratioUpdateToBare}× bare)`,
  );
  row('masked rows (all masked tables)', `${transformRows.toLocaleString('en')}`);
  row(
    'S3 download: ranged / single GET',
    `${figures.downloadRangedMBps} / ${figures.downloadSingleMBps} MB/s (${figures.ratioRangedToSingle}×)`,
  );
  row(
    'S3 download: ranged / single GET with SHA-256',
    `${figures.downloadRangedMBps} / ${figures.downloadSingleVerifiedMBps} MB/s (${figures.ratioRangedToSingleVerified}×)`,
  );
  row(
    'CREATE INDEX without / with observer',
    `${figures.createIndexWithoutObserverMs} / ${figures.createIndexWithObserverMs} ms (${figures.observerOverheadPct}%)`,
  );
  row(
    'tool peak RSS: small / large dataset',
    `${((figures.peakRssBytesSmall ?? 0) / 2 ** 20).toFixed(0)} / ${((figures.peakRssBytesLarge ?? 0) / 2 ** 20).toFixed(0)} MiB (dumps ${(small.bytes / 1e6).toFixed(0)} / ${(big.bytes / 1e6).toFixed(0)} MB)`,
  );
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} catch (error) {
  if (!cleanup.interruptedBy) throw error; // interrupted: the failure is the cluster going away
} finally {
  await cleanup.run();
}
