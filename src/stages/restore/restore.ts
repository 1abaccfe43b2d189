// restore: builds `<db>__next` from the archive — pre-data, data (-j), post-data (-j), then
// ANALYZE so migrations plan as they would in production. The live database is never touched.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadInheritance, loadPartitions } from '../../anonymize/column-facts.js';
import { isLargeObjectEntry, largeObjectFinding } from '../../anonymize/large-objects.js';
import { isStatisticsEntry } from '../../anonymize/statistics.js';
import type { Config } from '../../config/schema.js';
import { archiveDatabaseEntry, type DatabaseSetting } from '../../dump/database-options.js';
import { largeObjectTotal } from '../../dump/large-object-count.js';
import { onlyEntries, outboundEntries, withoutEntries } from '../../dump/outbound-entries.js';
import { pgRestoreArgs, type RestoreSection } from '../../dump/pg-restore-args.js';
import type { PreparedArchive } from '../../dump/prepare-archive.js';
import type { TocEntry } from '../../dump/toc.js';
import { AbortedError } from '../../errors.js';
import { workDirError } from '../../infra/fs/work-dir-error.js';
import { describeTarget, libpqEnv, type PgTarget } from '../../infra/pg/connection.js';
import { dropDatabaseForce } from '../../infra/pg/databases.js';
import { pgTool } from '../../infra/pg/pg-bin.js';
import { withClient } from '../../infra/pg/with-client.js';
import { runTool } from '../../infra/process/run-tool.js';
import { maskingCores, streamWorkers } from '../../infra/process/tool-cores.js';
import type { Logger } from '../../log/logger.js';
import { type NeutralizeKind, neutralizeDatabase } from '../../neutralize/neutralize-database.js';
import type {
  AnonymizeRecord,
  NeutralizedRecord,
  RestoredTable,
  RestoreRecord,
} from '../../record/run-record.js';
import { tableKey, tableKeySql } from '../../sql/table-key.js';
import { enforceFindings, type LeakSamples, loadColumns, restoreAnonymizedData } from './anonymized-data.js';
import { applyDatabaseSettings } from './database-settings.js';
import { EarlyIndexes, type EarlyIndexesRecord } from './early-indexes.js';
import { createLikeProduction } from './next-database.js';
import { restorePlain } from './plain/restore-plain.js';
import { classifyRestoreFailure } from './restore-failure.js';
import { StreamWorkerPool } from './stream-worker-pool.js';

export interface RestoreInput {
  /** The archive file or directory pg_restore reads, or the plain SQL file psql is fed from. */
  archive: string;
  format: PreparedArchive['format'];
  compression?: 'gzip' | undefined;
  /** pg_restore --list output and its parsed entries (from inspect). */
  listing: string;
  entries: readonly TocEntry[];
  config: Config;
  next: PgTarget;
  maintenance: PgTarget;
  /** The run's own directory in the work dir: the `-L` lists go there. */
  scratch: string;
  log: Logger;
  signal: AbortSignal;
  /** Called once `__next` exists, so the runner knows it must be dropped on failure. */
  onCreated?: () => void;
}

export interface RestoreResult {
  record: RestoreRecord;
  anonymize: AnonymizeRecord;
  /** Original values sampled from the archive stream, for the no-leak check. */
  samples: LeakSamples;
  /** Tables a plain SQL dump had data for (an archive's TOC says this before the restore). */
  tables?: string[];
  /** Objects that could reach outside staging, and what was done about each. */
  neutralized: NeutralizedRecord[];
  /** Production's database settings as the archive has them (applied or not: record.databaseSettings). */
  productionSettings: DatabaseSetting[];
  /** For the record's warnings: what differs from production and why. */
  warnings: string[];
}

/** Restores the archive into a fresh `__next` database, masking in the stream. */
export async function restoreArchive(input: RestoreInput): Promise<RestoreResult> {
  const { config, next, log } = input;
  // Production's encoding, locale and settings, from the archive's DATABASE entry (plain dumps: not
  // read; one made with --create carries its own CREATE DATABASE).
  // The restore does not need them: one that cannot be read is a warning, not a failed run.
  const warnings: string[] = [];
  const production =
    input.format === 'plain'
      ? undefined
      : await archiveDatabaseEntry(input.archive, input.signal).catch((error: unknown) => {
          if (input.signal.aborted) throw error;
          warnings.push(
            `production's database encoding, locale and settings could not be read from the backup (${(error as Error).message.split('\n')[0]}): staging has the server's defaults and none of its settings`,
          );
          return undefined;
        });
  const databaseOptions = await withClient(input.maintenance, 'staging-refresh:restore', async (client) => {
    if (await dropDatabaseForce(client, next.database)) {
      log.warn({ database: next.database }, 'dropped a leftover database from an earlier run');
    }
    return createLikeProduction(client, next.database, config.target.owner, production?.options);
  });
  input.onCreated?.();
  if (databaseOptions?.difference)
    log.warn({ ...databaseOptions }, 'staging cannot be created like production');

  const sections: RestoreRecord['sections'] = [];
  let data: {
    record: AnonymizeRecord;
    samples: LeakSamples;
    tables?: string[];
    earlyIndexes?: EarlyIndexesRecord;
  };
  const neutralized: NeutralizedRecord[] = [];
  if (input.format === 'plain') {
    const plain = await restorePlain({
      path: input.archive,
      gzip: input.compression === 'gzip',
      config,
      next,
      log,
      signal: input.signal,
    });
    sections.push(...plain.sections);
    data = { record: plain.anonymize, samples: plain.samples, tables: plain.tables };
    // #15: a plain dump cannot be filtered by entry; everything is neutralized once it is loaded.
    neutralized.push(...(await neutralize(input)));
  } else {
    data = await restoreWithPgRestore(input, sections, neutralized);
  }

  const analyzeStarted = performance.now();
  await runTool({
    file: pgTool('vacuumdb'),
    args: ['--analyze-only', `--jobs=${config.target.jobs}`, `--dbname=${next.database}`],
    env: libpqEnv(next),
    signal: input.signal,
  });
  sections.push({ name: 'analyze', durationMs: Math.round(performance.now() - analyzeStarted) });

  const tables = await tableStats(next);
  // Production's database settings, now that nothing of the restore's own is left to run.
  const settings = production?.settings ?? [];
  const databaseSettings =
    settings.length === 0
      ? undefined
      : await withClient(input.maintenance, 'staging-refresh:restore', (client) =>
          applyDatabaseSettings(client, next.database, settings),
        );
  return {
    record: {
      database: next.database,
      ...(databaseOptions && { databaseOptions }),
      ...(databaseSettings && { databaseSettings }),
      tables,
      sections,
      bytes: tables.reduce((sum, table) => sum + table.bytes, 0),
      rowsSource: 'analyze',
      ...(data.earlyIndexes && { earlyIndexes: data.earlyIndexes }),
    },
    anonymize: data.record,
    samples: data.samples,
    neutralized,
    productionSettings: settings,
    warnings: [...warnings, ...(databaseOptions?.difference ? [databaseOptions.difference] : [])],
    ...(data.tables && { tables: data.tables }),
  };
}

/** pre-data, data (masked in the stream), post-data: pg_restore passes. */
async function restoreWithPgRestore(
  input: RestoreInput,
  sections: RestoreRecord['sections'],
  neutralized: NeutralizedRecord[],
): Promise<{ record: AnonymizeRecord; samples: LeakSamples; earlyIndexes?: EarlyIndexesRecord }> {
  const { config, next, log } = input;
  // #15: user mappings, subscriptions and cron rows are never restored; event triggers last.
  const found = outboundEntries(input.listing, input.entries, config.neutralize.keep);
  await mkdir(input.scratch, { recursive: true }).catch((error: unknown) => {
    throw workDirError(error, config.workDir);
  });
  // #19: large objects hold bytes no rule masks: refused (exit 78), dropped or kept, before pre-data.
  const largeObjects = await largeObjectTotal(input.archive, input.entries, input.signal, input.scratch);
  const largeObjectNote = largeObjectFinding(config.anonymize, largeObjects);
  if (largeObjectNote) enforceFindings([largeObjectNote]);
  const dropObjects = largeObjects > 0 && config.anonymize.largeObjects === 'drop';
  // pg_dump 18's --statistics: production's values in its most common values and histograms.
  const statistics = input.entries.filter(isStatisticsEntry);
  const left = [...statistics, ...(dropObjects ? input.entries.filter(isLargeObjectEntry) : [])];
  const outbound = left.length > 0 ? { ...found, listing: withoutEntries(found.listing, left) } : found;
  neutralized.push(...outbound.skipped.map((skipped) => skipped.record));
  const baseList = await writeList(input, 'restore.list', outbound.listing);
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    if (input.signal.aborted) throw new AbortedError(`restoring ${name} was stopped before it began`);
    const started = performance.now();
    log.info({ section: name, database: next.database }, `restoring ${name}`);
    const result = await work();
    sections.push({ name, durationMs: Math.round(performance.now() - started) });
    return result;
  };
  // Masking workers start now: their start-up overlaps pre-data and the PII gate, and until one
  // is ready tables stream in this thread. Started one after another (each start is CPU-heavy);
  // how many: streamWorkers.
  const cores = maskingCores(next.host);
  const pool = new StreamWorkerPool(cores);
  const masked = Object.values(config.anonymize.tables).filter((rules) => rules !== 'truncate').length;
  pool.warm(streamWorkers(config.target.jobs, masked, cores));
  try {
    await timed('pre-data', () => runPgRestore(input, 'pre-data', baseList, input.signal));
    const early = await neutralize(input, ['servers', 'functions', 'views']);
    neutralized.push(...early);
    // A materialized view that calls dblink stays unpopulated: its REFRESH would connect out.
    const unrefreshed = new Set(
      early.filter((object) => object.action === 'not-refreshed').map((object) => object.name),
    );
    const postListing =
      unrefreshed.size === 0
        ? outbound.listing
        : withoutEntries(
            outbound.listing,
            input.entries.filter(
              (entry) =>
                entry.type === 'MATERIALIZED VIEW DATA' &&
                unrefreshed.has(tableKey(entry.schema, entry.name)),
            ),
          );
    const data = await restoreDataAndPostData(
      input,
      timed,
      pool,
      outbound,
      baseList,
      postListing,
      neutralized,
    );
    if (largeObjectNote) data.record.findings.push(largeObjectNote);
    if (largeObjects > 0)
      data.record.largeObjects = { count: largeObjects, action: dropObjects ? 'dropped' : 'kept' };
    if (statistics.length > 0)
      data.record.statistics = { entries: statistics.length, action: 'not-restored' };
    return data;
  } finally {
    await pool.close();
  }
}

/** The data section (masked tables streamed on `pool`), post-data, and the deferred entries. */
async function restoreDataAndPostData(
  input: RestoreInput,
  timed: <T>(name: string, work: () => Promise<T>) => Promise<T>,
  pool: StreamWorkerPool,
  outbound: ReturnType<typeof outboundEntries>,
  baseList: string | undefined,
  postListing: string,
  neutralized: NeutralizedRecord[],
): Promise<{ record: AnonymizeRecord; samples: LeakSamples; earlyIndexes?: EarlyIndexesRecord }> {
  const { config, next, log } = input;
  const { columns, partitions, inheritance } = await withClient(
    next,
    'staging-refresh:restore',
    async (client) => ({
      columns: await loadColumns(client),
      partitions: await loadPartitions(client),
      inheritance: await loadInheritance(client),
    }),
  );
  const partitioned = new Set([...partitions.keys(), ...[...partitions.values()].flat()]);
  // Only where masked tables stream is there anything to overlap; finding the entries is an
  // optimisation, and a failure there leaves every index to the post-data pass, as before.
  const streams = Object.values(config.anonymize.tables).some((rules) => rules !== 'truncate');
  const plainTables = input.entries
    .filter((entry) => entry.type === 'TABLE')
    .map((entry) => tableKey(entry.schema, entry.name))
    .filter((table) => !partitioned.has(table));
  // Planned while the data section prepares (its samples and checks read the archive too): the
  // plan is first needed when a table has loaded.
  const planned = EarlyIndexes.plan({
    archive: input.archive,
    listing: postListing,
    entries: input.entries,
    tables: new Set(streams ? plainTables : []),
    writeList: (name, listing) => writeListFile(input, name, listing),
    signal: input.signal,
    // One table's indexes beside streams still loading: one connection. The other tables' after
    // pg_restore's data pass: its connections are free again.
    restore: (listFile, signal, single) =>
      runPgRestore(input, 'post-data', listFile, signal, single ? 1 : config.target.jobs),
  }).catch((error: unknown) => {
    if (input.signal.aborted) throw error;
    log.warn(
      { err: error },
      'could not tell which indexes belong to which table: all are built after the data',
    );
    return EarlyIndexes.none();
  });
  // Rejected only when the run is stopped: then the data section's own error is the one told.
  planned.catch(() => undefined);
  const data = await timed('data', () =>
    restoreAnonymizedData({
      config,
      archive: input.archive,
      listing: outbound.listing,
      entries: input.entries,
      columns,
      partitions,
      inheritance,
      next,
      workDir: input.scratch,
      signal: input.signal,
      pool,
      restoreData: (listFile, signal) => runPgRestore(input, 'data', listFile ?? baseList, signal),
      loaded: async (tables, signal) => (await planned).build(tables, postListing, signal),
    }),
  ).catch(async (error: unknown) => {
    await planned.catch(() => undefined); // its pg_restore ends before the step does
    throw error;
  });
  const early = await planned;
  const postList = await writeList(input, 'restore-post.list', early.rest(postListing));
  await timed('post-data', () => runPgRestore(input, 'post-data', postList, input.signal));
  if (outbound.deferred.length > 0) {
    const events = await writeList(
      input,
      'restore-events.list',
      onlyEntries(input.listing, outbound.deferred),
    );
    await runPgRestore(input, 'post-data', events, input.signal);
  }
  neutralized.push(...(await neutralize(input, ['event-triggers', 'subscriptions', 'cron'])));
  const earlyIndexes = early.record();
  return { ...data, ...(earlyIndexes && { earlyIndexes }) };
}

/** The SQL pass of #15 on `__next` (src/neutralize). */
async function neutralize(input: RestoreInput, kinds?: NeutralizeKind[]): Promise<NeutralizedRecord[]> {
  return withClient(input.next, 'staging-refresh:neutralize', (client) =>
    neutralizeDatabase(client, input.config.neutralize.keep, kinds, input.config.production.hosts),
  );
}

/** Writes a `-L` list into the run's own directory; undefined when the listing is the whole archive. */
async function writeList(input: RestoreInput, name: string, listing: string): Promise<string | undefined> {
  return listing === input.listing ? undefined : writeListFile(input, name, listing);
}

/** Writes a `-L` list into the run's own directory and returns its path. */
async function writeListFile(input: RestoreInput, name: string, listing: string): Promise<string> {
  const file = join(input.scratch, name);
  await writeFile(file, listing).catch((error: unknown) => {
    throw workDirError(error, input.config.workDir);
  });
  return file;
}

async function runPgRestore(
  input: RestoreInput,
  section: RestoreSection,
  listFile: string | undefined,
  signal: AbortSignal,
  jobs = input.config.target.jobs,
): Promise<void> {
  const args = pgRestoreArgs({
    archive: input.archive,
    database: input.next.database,
    section,
    ...(input.format !== 'plain' && { format: input.format }),
    jobs,
    role: input.config.target.owner,
    listFile,
  });
  try {
    await runTool({ file: pgTool('pg_restore'), args, env: libpqEnv(input.next), signal });
  } catch (error) {
    throw classifyRestoreFailure(error, input.archive, section, describeTarget(input.next));
  }
}

async function tableStats(target: PgTarget): Promise<RestoredTable[]> {
  return withClient(target, 'staging-refresh:restore-stats', async (client) => {
    const result = await client.query<{ name: string; rows: string; bytes: string }>(`
      SELECT ${tableKeySql('n.nspname', 'c.relname')} AS name,
             greatest(c.reltuples, 0)::bigint AS rows,
             pg_total_relation_size(c.oid) AS bytes
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'm')
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
       ORDER BY pg_total_relation_size(c.oid) DESC, 1`);
    return result.rows.map((row) => ({ name: row.name, rows: Number(row.rows), bytes: Number(row.bytes) }));
  });
}
