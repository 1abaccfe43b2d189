// npm run bench -- [--rows 20000000] [--reps 3] [--jobs 2] [--shapes split,shared]
// Generates a production-like dataset and a skewed one (one masked table holds ~93 % of the
// rows), then measures in one run, with a warm-up and medians of --reps repetitions, in each CPU
// shape — "split" (the PostgreSQL server on half the cores, the tool and every process it starts
// on the others, as a pod beside a database server) and "shared" (nothing pinned): bare
// `pg_restore -j N` against the full `run` (S3 download + restore + anonymize + post-data + swap)
// on both datasets, and per masked table the masking throughput of one tool core against the
// server's COPY ingest on one core. Then, shared: restore followed by in-place UPDATE masking; the
// ranged S3 download against one GET, on loopback (a CPU check) and through a proxy that behaves
// like an object store across a network (per-connection bandwidth cap and first-byte latency);
// the lock observer's overhead on a CREATE INDEX; the tool's peak RSS on two dataset sizes.
// Prints a table and, as its last line, one JSON object.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load-config.js';
import { s3ObjectStore } from '../src/infra/s3/object-store.js';
import { silentLogger } from '../src/log/logger.js';
import type { RunRecord } from '../src/record/run-record.js';
import { fetchBackup } from '../src/sources/s3/download-object.js';
import { locateS3 } from '../src/sources/s3/locate-s3.js';
import { clusterQuery, startCluster } from '../test/harness/pg-cluster.js';
import { S3_CREDENTIALS, startS3Server } from '../test/harness/s3-server.js';
import { Cleanup } from './lib/cleanup.js';
import { applyShape, type CpuShape, type ShapeName } from './lib/cpu-shape.js';
import { median } from './lib/median.js';
import { measureObserver, serverCpuMs } from './lib/observer-bench.js';
import { productionRules, productionSql } from './lib/production-db.js';
import { startThrottleProxyProcess } from './lib/throttle-proxy.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '20000000' },
    reps: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '2' },
    shapes: { type: 'string', default: 'split,shared' },
  },
});
const shapes = (values.shapes as string)
  .split(',')
  .filter((name): name is ShapeName => name === 'split' || name === 'shared');
const rows = Number(values.rows);
const reps = Math.max(1, Number(values.reps));
const jobs = Number(values.jobs);
const log = (text: string) => process.stderr.write(`${text}\n`);

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
const admin = (database: string, text: string, params: unknown[] = []) =>
  clusterQuery(info, database, text, params);

/** Warm-up once, then `reps` timed runs of fn (which returns its own wall time in ms). */
async function measure(label: string, fn: () => Promise<number>): Promise<number> {
  const [times] = await measureTurnAbout([[label, fn]]);
  return median(times as number[]);
}

/**
 * Warm-up once each, then `reps` rounds in which each of `sides` runs once, in turn: a machine
 * whose speed drifts over minutes (this one's bare restore moved 10.8–13.7 s within one bench)
 * then slows both sides of a comparison alike, where all of one side's repetitions before all of
 * the other's would give the drift to one side. Returns each side's times.
 */
async function measureTurnAbout(sides: [string, () => Promise<number>][]): Promise<number[][]> {
  for (const [label, fn] of sides) {
    log(`• ${label}: warm-up`);
    await fn();
  }
  const times: number[][] = sides.map(() => []);
  for (let i = 1; i <= reps; i++) {
    for (const [index, [label, fn]] of sides.entries()) {
      const ms = await fn();
      times[index]?.push(ms);
      log(`  ${label} #${i}: ${(ms / 1000).toFixed(2)} s`);
    }
  }
  return times;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function makeDataset(
  name: string,
  orders: number,
  options: { skewed?: boolean } = {},
): Promise<{ dump: string; bytes: number }> {
  log(`generating ${name}: ${orders.toLocaleString('en')} orders${options.skewed ? ', skewed' : ''} …`);
  await admin('postgres', `CREATE DATABASE ${name}`);
  await admin(name, productionSql(orders, options));
  await admin(name, 'VACUUM ANALYZE');
  const dump = join(work, `${name}.dump`);
  await execa(join(info.binDir, 'pg_dump'), ['-Fc', '-f', dump, name], { env });
  await admin('postgres', `DROP DATABASE ${name}`);
  return { dump, bytes: (await stat(dump)).size };
}

let seq = 0;
/**
 * Bare pg_restore into a new database, then ANALYZE, on the tool's cores: CREATE DATABASE, as the
 * restore step creates `__next`, and ANALYZE, as it runs one.
 */
async function bareRestore(dump: string, cpu: CpuShape): Promise<number> {
  const db = `bare_${seq++}`;
  const ms = await timed(async () => {
    await admin('postgres', `CREATE DATABASE ${db}`);
    await execa(
      ...cpu.command(join(info.binDir, 'pg_restore'), [
        `--jobs=${jobs}`,
        '--no-owner',
        '--no-privileges',
        `--dbname=${db}`,
        dump,
      ]),
      { env },
    );
    await admin(db, 'ANALYZE');
  });
  await admin('postgres', `DROP DATABASE ${db}`);
  return ms;
}

async function restoreThenUpdate(dump: string): Promise<number> {
  const db = `upd_${seq++}`;
  const ms = await timed(async () => {
    await admin('postgres', `CREATE DATABASE ${db}`); // as bare's: timed
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

async function fullRun(prefix: string, cpu?: CpuShape): Promise<RunRecord> {
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
  const cli = [resolve('dist/cli.js'), 'run', '--config', join(dir, 'config.yaml'), '--json'];
  const [file, args] = cpu ? cpu.command(process.execPath, cli) : [process.execPath, cli];
  const result = await execa(file, args, {
    // The image's malloc setting (Dockerfile): large buffers given back as they are freed.
    env: {
      PGPASSWORD: info.password,
      LOG_LEVEL: 'warn',
      MALLOC_MMAP_THRESHOLD_: '131072',
      ...S3_CREDENTIALS,
    },
    reject: false,
  });
  const record = JSON.parse(result.stdout) as RunRecord;
  if (record.outcome !== 'succeeded') throw new Error(`bench run failed: ${record.error?.message}`);
  return record;
}

/** ranged: the product's fetch (parallel ranges, SHA-256 checked); single: one plain GET to a file; single-sha256: the same, hashing as it streams. */
async function download(
  key: string,
  mode: 'ranged' | 'single' | 'single-sha256',
  endpoint = s3.endpoint,
): Promise<number> {
  const store = s3ObjectStore({ bucket: 'bench', region: 'us-east-1', endpoint, forcePathStyle: true });
  const dir = await mkdtemp(join(work, 'dl-'));
  // The listing is the locate step's (a run lists before it fetches): outside the timing.
  const candidate = mode === 'ranged' ? await locateS3(store, key, '') : undefined;
  const ms = await timed(async () => {
    if (candidate) {
      await fetchBackup({
        store,
        candidate,
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

/** The masked tables of ANONYMIZE with their rules (truncated tables load nothing). */
const MASKED = Object.entries(ANONYMIZE.tables).filter(([, rules]) => typeof rules === 'object');

/**
 * Per masked table, in the split shape: the client side of masking on one tool core (rows/s,
 * MB/s of COPY text) against the server's COPY ingest of the same rows on its cores, loaded by
 * pg_restore --data-only from the tool's cores. Each side the median of `reps` (the table emptied
 * before each load).
 */
async function tableRates(dump: string, cpu: CpuShape) {
  const db = `ingest_${seq++}`;
  await admin('postgres', `CREATE DATABASE ${db}`);
  await execa(join(info.binDir, 'pg_restore'), ['--section=pre-data', '--no-owner', `--dbname=${db}`, dump], {
    env,
  });
  const oneCore = cpu.toolCpus.split('-')[0] as string;
  const rates = [];
  for (const [name] of MASKED) {
    const [schema, table] = name.split('.') as [string, string];
    const types = await columnTypesOf(db, name);
    const masks = [];
    const ingests = [];
    for (let rep = 0; rep < reps; rep++) {
      masks.push(await maskTable(dump, name, types, oneCore, 1));
      await admin(db, `TRUNCATE ${name}`);
      ingests.push(
        await timed(() =>
          execa(
            ...cpu.command(join(info.binDir, 'pg_restore'), [
              '--data-only',
              `--schema=${schema}`,
              `--table=${table}`,
              `--dbname=${db}`,
              dump,
            ]),
            { env },
          ),
        ),
      );
    }
    const mask = {
      rows: masks[0]?.rows ?? 0,
      bytes: masks[0]?.bytes ?? 0,
      ms: median(masks.map((m) => m.ms)),
    };
    const ingestMs = median(ingests);
    const perSecond = (count: number, ms: number) => Math.round(count / (ms / 1000));
    rates.push({
      table: name,
      rows: mask.rows,
      maskRowsPerSecondPerCore: perSecond(mask.rows, mask.ms),
      maskMBpsPerCore: Number((mask.bytes / 1e6 / (mask.ms / 1000)).toFixed(1)),
      ingestRowsPerSecondPerCore: perSecond(mask.rows, ingestMs),
      ingestMBpsPerCore: Number((mask.bytes / 1e6 / (ingestMs / 1000)).toFixed(1)),
      keepsUp: mask.ms <= ingestMs,
    });
  }
  await admin('postgres', `DROP DATABASE ${db}`);
  return rates;
}

/** The parsed rules of ANONYMIZE, as a run reads them. */
function parsedRules() {
  return parseConfig(stringify({ ...minimalConfig(), anonymize: ANONYMIZE }), {}, work, 'bench').anonymize;
}

/** The client side of masking one table (scripts/lib/mask-table-main.ts) on `cpus`, with `threads` threads. */
async function maskTable(
  dump: string,
  name: string,
  types: Record<string, string>,
  cpus: string,
  threads: number,
): Promise<{ rows: number; bytes: number; ms: number; threads: number }> {
  const [schema, table] = name.split('.') as [string, string];
  const anonymize = parsedRules();
  const masked = await execa(
    'taskset',
    [
      '-c',
      cpus,
      process.execPath,
      '--import',
      'tsx',
      resolve('scripts/lib/mask-table-main.ts'),
      dump,
      schema,
      table,
      JSON.stringify(anonymize.tables[name]),
      JSON.stringify(types),
      ANONYMIZE.secret,
      anonymize.domain,
      String(threads),
      JSON.stringify(anonymize.tables),
    ],
    { env },
  );
  return JSON.parse(masked.stdout) as { rows: number; bytes: number; ms: number; threads: number };
}

/** Column name → type of a table in `db`. */
async function columnTypesOf(db: string, name: string): Promise<Record<string, string>> {
  const columns = await admin(
    db,
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [name],
  );
  return Object.fromEntries(columns.map((row) => [row.name as string, row.type as string]));
}

/**
 * One big masked table (the skewed dataset's) masked by one thread on one core, then split across
 * helper threads on every core (nothing else running): whether a big table is bound to one core.
 */
async function splitScaling(dump: string) {
  const db = `scaling_${seq++}`;
  await admin('postgres', `CREATE DATABASE ${db}`);
  await execa(join(info.binDir, 'pg_restore'), ['--section=pre-data', '--no-owner', `--dbname=${db}`, dump], {
    env,
  });
  const types = await columnTypesOf(db, 'public.orders');
  await admin('postgres', `DROP DATABASE ${db}`);
  const cores = availableParallelism();
  const runs = async (cpus: string, threads: number) => {
    const all = [];
    for (let i = 0; i < reps; i++) all.push(await maskTable(dump, 'public.orders', types, cpus, threads));
    const ms = median(all.map((r) => r.ms));
    return { rowsPerSecond: Math.round((all[0]?.rows ?? 0) / (ms / 1000)), threads: all[0]?.threads ?? 1 };
  };
  log('• one big table masked on one core, then on every core');
  const one = await runs('0', 1);
  const every = await runs(`0-${cores - 1}`, cores);
  return {
    table: 'public.orders',
    oneCoreRowsPerSecond: one.rowsPerSecond,
    everyCoreRowsPerSecond: every.rowsPerSecond,
    threads: every.threads,
    speedup: Number((every.rowsPerSecond / one.rowsPerSecond).toFixed(2)),
  };
}

/** The keys a config needs besides anonymize, for parsing the rules the way a run does. */
function minimalConfig() {
  return {
    source: { local: { path: work }, maxAge: '8d' },
    workDir: work,
    target: {
      url: `postgres://${info.user}@${info.host}:${info.port}/app`,
      allow: [`${info.host}:${info.port}/app`],
    },
    report: { dir: work },
  };
}

/** `fn`'s result; the server's CPU (ms) over it pushed onto `into`. */
async function withServerCpu<T>(into: number[], fn: () => Promise<T>): Promise<T> {
  const before = await serverCpuMs();
  const result = await fn();
  into.push((await serverCpuMs()) - before);
  return result;
}

/** One shape: bare against the run's restore step on both datasets, and the per-table rates. */
async function measureShape(name: ShapeName, datasets: { big: string; skewed: string }) {
  const cpu = await applyShape(name, info.dir);
  log(`— shape ${name}: server on CPUs ${cpu.serverCpus}, tool on CPUs ${cpu.toolCpus}`);
  const restoreStep = async (label: string, prefix: string, dump: string) => {
    // The server's CPU over each: what the run asks of the server beyond what pg_restore does
    // (in the split shape the server's core is what both wait on).
    const bareCpu: number[] = [];
    const runCpu: number[] = [];
    const runs: RunRecord[] = [];
    const [bareTimes, fullTimes] = await measureTurnAbout([
      [
        `[${name}] ${label}: bare pg_restore -j${jobs} + ANALYZE`,
        () => withServerCpu(bareCpu, () => bareRestore(dump, cpu)),
      ],
      [
        `[${name}] ${label}: full run`,
        async () => {
          const record = await withServerCpu(runCpu, () => fullRun(prefix, cpu));
          runs.push(record);
          return record.durationMs;
        },
      ],
    ]);
    const bare = median(bareTimes as number[]);
    const full = median(fullTimes as number[]);
    // The warm-up's record left out, as its time is.
    const step = median(runs.slice(1).map((r) => r.steps.find((s) => s.name === 'restore')?.durationMs ?? 0));
    const serverCpu = { bare: median(bareCpu.slice(1)), run: median(runCpu.slice(1)) };
    return { bare, full, step, serverCpu, last: runs[runs.length - 1] as RunRecord };
  };
  const main = await restoreStep('default', 'big/', datasets.big);
  const skewed = await restoreStep('skewed', 'skewed/', datasets.skewed);
  const rates =
    name === 'split' && cpu.toolCpus !== cpu.serverCpus ? await tableRates(datasets.big, cpu) : [];
  const skewedRates =
    name === 'split' && cpu.toolCpus !== cpu.serverCpus ? await tableRates(datasets.skewed, cpu) : [];
  return { cpu, main, skewed, rates, skewedRates };
}

try {
  process.env.PGPASSWORD = info.password;
  Object.assign(process.env, S3_CREDENTIALS);
  const big = await makeDataset('bench_big', rows);
  const skewedSet = await makeDataset('bench_skewed', rows, { skewed: true });
  const small = await makeDataset('bench_small', Math.max(1000, Math.floor(rows / 4)));
  log(
    `dumps: ${(big.bytes / 1e6).toFixed(0)} MB, skewed ${(skewedSet.bytes / 1e6).toFixed(0)} MB, small ${(small.bytes / 1e6).toFixed(0)} MB; uploading to S3`,
  );
  await s3.upload('bench', 'big/prod.dump', big.dump);
  await s3.upload('bench', 'skewed/prod.dump', skewedSet.dump);
  await s3.upload('bench', 'small/prod.dump', small.dump);

  const byShape = new Map<ShapeName, Awaited<ReturnType<typeof measureShape>>>();
  for (const name of shapes)
    byShape.set(name, await measureShape(name, { big: big.dump, skewed: skewedSet.dump }));
  await applyShape('shared', info.dir);
  const scaling = await splitScaling(skewedSet.dump);
  const update = await measure('[shared] restore + in-place UPDATE masking + VACUUM', () =>
    restoreThenUpdate(big.dump),
  );
  const ranged = await measure('S3 ranged download, loopback (4 × 16 MiB parts, SHA-256 checked)', () =>
    download('big/prod.dump', 'ranged'),
  );
  const single = await measure('S3 single GET, loopback', () => download('big/prod.dump', 'single'));
  const singleVerified = await measure('S3 single GET, loopback, SHA-256 while streaming', () =>
    download('big/prod.dump', 'single-sha256'),
  );
  // An object store across a network: 40 MB/s and 30 ms to the first byte, per connection.
  const network = await startThrottleProxyProcess(s3.endpoint, { bytesPerSecond: 40e6, latencyMs: 30 });
  const rangedThrottled = await measure('S3 ranged download, throttled (40 MB/s, 30 ms a connection)', () =>
    download('big/prod.dump', 'ranged', network.endpoint),
  );
  const singleThrottled = await measure('S3 single GET, throttled', () =>
    download('big/prod.dump', 'single-sha256', network.endpoint),
  );
  await network.close();
  await admin('postgres', 'CREATE DATABASE observe');
  await execa(
    join(info.binDir, 'pg_restore'),
    [`--jobs=${jobs}`, '--no-owner', '--dbname=observe', big.dump],
    { env },
  );
  // The observer in the deployment's shape when it was measured (split), else shared.
  const observer = await measureObserver(
    info,
    'observe',
    reps,
    await applyShape(shapes.includes('split') ? 'split' : 'shared', info.dir),
  );
  await applyShape('shared', info.dir);
  const smallRecord = await fullRun('small/');
  const reference = byShape.get('shared') ?? byShape.get('split');
  if (!reference) throw new Error('no shape measured: --shapes takes split, shared or both');
  const last = reference.main.last;
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const split = byShape.get('split');
  const shared = byShape.get('shared');
  const transformRows = last.anonymize?.tables.reduce((sum, t) => sum + t.rows, 0) ?? 0;
  const figures = {
    rows,
    reps,
    jobs,
    cores: availableParallelism(),
    dumpBytes: big.bytes,
    dumpBytesSkewed: skewedSet.bytes,
    bareRestoreMs: Math.round(reference.main.bare),
    fullRunMs: Math.round(reference.main.full),
    fullRunRestoreStepMs: Math.round(reference.main.step),
    restoreThenUpdateMs: Math.round(update),
    ratioFullRunToBare: ratio(reference.main.full, reference.main.bare),
    ratioRestoreStepToBare: ratio(reference.main.step, reference.main.bare),
    ratioUpdateToBare: ratio(update, reference.main.bare),
    ...(split && {
      split: { serverCpus: split.cpu.serverCpus, toolCpus: split.cpu.toolCpus },
      bareRestoreSplitMs: Math.round(split.main.bare),
      restoreStepSplitMs: Math.round(split.main.step),
      ratioRestoreStepToBareSplit: ratio(split.main.step, split.main.bare),
      ratioSkewedSplit: ratio(split.skewed.step, split.skewed.bare),
      serverCpuBareSplitMs: Math.round(split.main.serverCpu.bare),
      serverCpuRunSplitMs: Math.round(split.main.serverCpu.run),
      tableRatesSplit: split.rates,
      tableRatesSkewedSplit: split.skewedRates,
    }),
    ...(shared && {
      ratioRestoreStepToBareShared: ratio(shared.main.step, shared.main.bare),
      ratioSkewedShared: ratio(shared.skewed.step, shared.skewed.bare),
    }),
    splitTable: scaling,
    maskedRows: transformRows,
    maskedRowsPerSecond: last.anonymize?.tables.map((t) => ({
      table: t.name,
      rowsPerSecond: t.rowsPerSecond,
    })),
    downloadRangedMBps: Number((big.bytes / 1e6 / (ranged / 1000)).toFixed(1)),
    downloadSingleMBps: Number((big.bytes / 1e6 / (single / 1000)).toFixed(1)),
    ratioRangedToSingle: ratio(single, ranged),
    downloadSingleVerifiedMBps: Number((big.bytes / 1e6 / (singleVerified / 1000)).toFixed(1)),
    ratioRangedToSingleVerified: ratio(singleVerified, ranged),
    downloadRangedThrottledMBps: Number((big.bytes / 1e6 / (rangedThrottled / 1000)).toFixed(1)),
    downloadSingleThrottledMBps: Number((big.bytes / 1e6 / (singleThrottled / 1000)).toFixed(1)),
    s3RangedToSingleThrottled: ratio(singleThrottled, rangedThrottled),
    ...observer,
    peakRssBytesLarge: last.resources?.peakRssBytes,
    peakRssBytesSmall: smallRecord.resources?.peakRssBytes,
    dumpBytesSmall: small.bytes,
    node: process.versions.node,
  };
  const row = (label: string, value: string) => process.stdout.write(`${label.padEnd(56)} ${value}\n`);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  process.stdout.write(
    `\nstaging-refresh bench: ${rows.toLocaleString('en')} orders, dump ${(big.bytes / 1e6).toFixed(0)} MB, -j${jobs}, ${figures.cores} cores, median of ${reps}, Node ${process.versions.node}\n`,
  );
  for (const [name, shape] of byShape) {
    process.stdout.write(
      `shape ${name}: server on CPUs ${shape.cpu.serverCpus}, tool on CPUs ${shape.cpu.toolCpus}\n`,
    );
    for (const [label, set] of [
      ['default', shape.main],
      ['skewed', shape.skewed],
    ] as const) {
      row(`  ${label}: bare pg_restore + ANALYZE`, seconds(set.bare));
      row(
        `  ${label}: restore step (restore+anonymize+ANALYZE)`,
        `${seconds(set.step)}  (${ratio(set.step, set.bare)}× bare)`,
      );
      row(
        `  ${label}: full run (S3+restore+post-data+swap)`,
        `${seconds(set.full)}  (${ratio(set.full, set.bare)}× bare)`,
      );
      row(
        `  ${label}: server CPU, bare / full run`,
        `${seconds(set.serverCpu.bare)} / ${seconds(set.serverCpu.run)}  (${ratio(set.serverCpu.run, set.serverCpu.bare)}×)`,
      );
    }
    for (const rate of [...shape.rates, ...shape.skewedRates]) {
      row(
        `  ${rate.table} (${rate.rows.toLocaleString('en')} rows): mask / ingest per core`,
        `${rate.maskRowsPerSecondPerCore.toLocaleString('en')} / ${rate.ingestRowsPerSecondPerCore.toLocaleString('en')} rows/s, ${rate.maskMBpsPerCore} / ${rate.ingestMBpsPerCore} MB/s${rate.keepsUp ? '' : '  (masking slower)'}`,
      );
    }
  }
  row(
    `${scaling.table} (skewed): masking on 1 core / ${scaling.threads} threads`,
    `${scaling.oneCoreRowsPerSecond.toLocaleString('en')} / ${scaling.everyCoreRowsPerSecond.toLocaleString('en')} rows/s (${scaling.speedup}×)`,
  );
  row(
    'restore + in-place UPDATE masking + VACUUM',
    `${seconds(update)}  (${figures.ratioUpdateToBare}× bare)`,
  );
  row('masked rows (all masked tables)', `${transformRows.toLocaleString('en')}`);
  row(
    'S3 loopback: ranged / single GET',
    `${figures.downloadRangedMBps} / ${figures.downloadSingleMBps} MB/s (${figures.ratioRangedToSingle}×)`,
  );
  row(
    'S3 loopback: ranged / single GET with SHA-256',
    `${figures.downloadRangedMBps} / ${figures.downloadSingleVerifiedMBps} MB/s (${figures.ratioRangedToSingleVerified}×)`,
  );
  row(
    'S3 throttled 40 MB/s, 30 ms: ranged ×4 / single GET',
    `${figures.downloadRangedThrottledMBps} / ${figures.downloadSingleThrottledMBps} MB/s (${figures.s3RangedToSingleThrottled}×)`,
  );
  row(
    `CREATE INDEX without / with observer (${observer.shape})`,
    `${observer.createIndexWithoutObserverMs} / ${observer.createIndexWithObserverMs} ms (${observer.observerOverheadPct}%)`,
  );
  row(
    'observer: server CPU off / on, SHARE lock held',
    `${observer.observerServerCpuOffMsPerS} / ${observer.observerServerCpuOnMsPerS} ms/s (${observer.observerServerCorePct} % of one core)`,
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
