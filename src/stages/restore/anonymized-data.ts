// The data section with anonymization: tables without rules go through `pg_restore -L … -j`
// (their TABLE DATA entries only), tables with rules are streamed through their transforms at
// the same time, truncated tables get no rows at all.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { loadColumnFacts } from '../../anonymize/column-facts.js';
import type { LeakSamples } from '../../anonymize/leak-sampler.js';
import { expandPartitionRules, partitionParents } from '../../anonymize/partition-rules.js';
import { checkCoverage, qualify } from '../../anonymize/pii-gate.js';
import { KeyedPrf } from '../../anonymize/prf/keyed-prf.js';
import { foreignKeyProblems, needsValues, ruleFitError, ruleFitProblems } from '../../anonymize/rule-fit.js';
import type { ColumnRule } from '../../anonymize/strategies/registry.js';
import { columnsToSample, sampleArchive, sampleArchiveTable } from '../../anonymize/value-sampling.js';
import type { Config } from '../../config/schema.js';
import type { ColumnInfo } from '../../dump/column-info.js';
import { type CopyStatement, type DirectTableRead, directTableReads } from '../../dump/custom-archive.js';
import { withoutEntries } from '../../dump/outbound-entries.js';
import { parseCopyLine } from '../../dump/plain-sql-events.js';
import { type TocEntry, tablesWithData } from '../../dump/toc.js';
import { archiveKeys, type UniqueKey, uniqueRuledColumns } from '../../dump/unique-keys.js';
import { AbortedError, ConfigError } from '../../errors.js';
import { mapConcurrent } from '../../infra/concurrency/map-concurrent.js';
import { whenAborted } from '../../infra/concurrency/when-aborted.js';
import { workDirError } from '../../infra/fs/work-dir-error.js';
import type { PgTarget } from '../../infra/pg/connection.js';
import { withClient } from '../../infra/pg/with-client.js';
import type { AnonymizeRecord } from '../../record/run-record.js';
import { loadParser } from '../../sql/parse-sql.js';
import { splitTableKey, type TableName, tableKey, tableKeySql } from '../../sql/table-key.js';
import { streamTable } from './stream-table.js';
import { StreamWorkerPool } from './stream-worker-pool.js';

/** Rows sampled per masked table for the row-aligned leak check. */
export type { LeakSamples } from '../../anonymize/leak-sampler.js';

/**
 * Columns of every user table of the (pre-data) database: `type` the type's name (a domain's base
 * type's), as information_schema's udt_name, but from the catalogs, which list every table
 * (information_schema only those this role has a privilege on) and cost a tenth as much on a big
 * schema (0.8–1.1 → 0.26–0.32 s for 4,000 tables of 29 columns).
 */
export async function loadColumns(client: pg.Client): Promise<ColumnInfo[]> {
  const result = await client.query<{ table: string; column: string; type: string; generated: boolean }>(`
    SELECT ${tableKeySql('n.nspname', 'c.relname')} AS table, a.attname::text AS column,
           coalesce(bt.typname, t.typname)::text AS type, a.attgenerated <> '' AS generated
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
     WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
     ORDER BY 1, a.attnum`);
  return result.rows;
}

export interface AnonymizedDataInput {
  config: Config;
  archive: string;
  listing: string;
  entries: readonly TocEntry[];
  columns: readonly ColumnInfo[];
  /** Partitioned table → its partitions, in the (pre-data) database (loadPartitions). */
  partitions: ReadonlyMap<string, readonly string[]>;
  /** Table → the tables inheriting from it (loadInheritance): they get its rules too. */
  inheritance?: ReadonlyMap<string, readonly string[]>;
  next: PgTarget;
  workDir: string;
  signal: AbortSignal;
  /** Masking workers, started early by the caller (their start-up overlaps pre-data); own ones when absent. */
  pool?: StreamWorkerPool | undefined;
  /** Runs pg_restore for the data section with a list file (the restore stage's own runner). */
  restoreData: (listFile: string | undefined, signal: AbortSignal) => Promise<void>;
  /**
   * Called when tables have all their rows — one masked table, or every table but the masked ones
   * (once pg_restore's data pass is done) — to build their indexes while the rest still loads. The
   * data section ends when these are done too; a failure stops the streams.
   */
  loaded?: (tables: LoadedTables, signal: AbortSignal) => Promise<void>;
}

/** Tables whose rows are all in: one masked table, or every table but the masked ones. */
export type LoadedTables = { table: string } | { allBut: ReadonlySet<string> };

export interface AnonymizedDataResult {
  record: AnonymizeRecord;
  samples: LeakSamples;
}

/** Throws ConfigError (exit 78) when a finding is an error; returns them all otherwise. */
export function enforceFindings(findings: AnonymizeRecord['findings']): AnonymizeRecord['findings'] {
  const blocking = findings.filter((finding) => finding.severity === 'error');
  if (blocking.length > 0) {
    throw new ConfigError(
      `${blocking.length} column(s) look like PII and have no anonymization rule`,
      blocking.map((finding) => finding.message),
      {
        hint: 'add rules or `anonymize.keep` entries (or set anonymize.unknownPii: warn); no data was restored',
      },
    );
  }
  return findings;
}

/** anonymize.tables keyed by `schema.table`. */
export function rulesByTable(
  anonymize: Config['anonymize'],
): Map<string, Config['anonymize']['tables'][string]> {
  return new Map(Object.entries(anonymize.tables).map(([key, value]) => [qualify(key), value]));
}

/** `schema.table` → column → type name. */
export function columnTypes(columns: readonly ColumnInfo[]): Map<string, Map<string, string>> {
  const types = new Map<string, Map<string, string>>();
  for (const column of columns) {
    const table = types.get(column.table) ?? new Map<string, string>();
    table.set(column.column, column.type);
    types.set(column.table, table);
  }
  return types;
}

/** Runs the data section; returns per-table stats, gate findings and the originals sampled. */
export async function restoreAnonymizedData(input: AnonymizedDataInput): Promise<AnonymizedDataResult> {
  const { partitions } = input;
  const anonymize = expandPartitionRules(input.config.anonymize, partitions, input.inheritance);
  const byName = checkCoverage(anonymize, input.columns);
  // Masked tables' rows straight from the archive's data (custom blocks, directory files) where
  // the reader can (custom-archive.ts); the rest through pg_restore, as before. The samples below
  // read their first rows the same way.
  const direct = await directTableReads(input.archive, tableKey).catch((error: unknown) => ({
    reads: new Map<string, DirectTableRead>(),
    refused: `its table of contents was not read: ${(error as Error).message}`,
    copies: new Map<string, CopyStatement>(),
    sizes: new Map<string, number>(),
  }));
  const withData = new Set(tablesWithData(input));
  // The PII gate's samples and the rule checks read the archive side by side: no row is written
  // before both have passed, and the gate's verdict is given first, as when they ran in turn.
  const [byValue, fit] = await Promise.allSettled([
    anonymize.sampleRows > 0
      ? sampleArchive(
          anonymize,
          input.archive,
          columnsToSample(
            anonymize,
            input.columns,
            new Set(byName.map((finding) => finding.column)),
            partitions,
          ),
          input.config.target.jobs,
          input.signal,
          direct.reads,
        )
      : Promise.resolve([]),
    enforceRuleFit(input, anonymize, partitions, direct, withData),
  ]);
  if (byValue.status === 'rejected') throw byValue.reason;
  const findings = enforceFindings([...byName, ...byValue.value]);
  if (fit.status === 'rejected') throw fit.reason;
  const uniqueKeys = fit.value;
  const rules = rulesByTable(anonymize);
  if (rules.size === 0) {
    await input.restoreData(undefined, input.signal);
    return { record: { tables: [], findings }, samples: new Map() };
  }

  const listFile = join(input.workDir, 'restore-data.list');
  await writeFile(listFile, dataListing(input.listing, input.entries, new Set(rules.keys()))).catch(
    (error: unknown) => {
      throw workDirError(error, input.workDir);
    },
  );
  const types = columnTypes(input.columns);
  // A partitioned table holds no rows (its partitions do): recorded, not streamed. The biggest
  // first, as pg_restore -j orders its own: a big table listed last in the config would start
  // when the streams before it end, and the data section would wait for it alone.
  const streamed = largestFirst(
    [...rules.entries()].filter(
      (entry): entry is [string, Record<string, ColumnRule>] =>
        entry[1] !== 'truncate' && !partitions.has(entry[0]),
    ),
    direct.sizes,
  );
  const controller = new AbortController();
  const stopFollowing = whenAborted(input.signal, () => controller.abort());
  const tables: AnonymizeRecord['tables'] = [];
  const samples: LeakSamples = new Map();
  const pool = input.pool ?? new StreamWorkerPool();
  const jobs = Math.max(1, input.config.target.jobs);
  // Settled as they end, never rejected: a build that fails while streams still run must not be
  // an unhandled rejection (it would end the process before the run is recorded).
  const followUps: Promise<PromiseSettledResult<void>>[] = [];
  const loaded = (tables: LoadedTables) => {
    if (!input.loaded || controller.signal.aborted) return;
    followUps.push(
      input.loaded(tables, controller.signal).then(
        (value) => ({ status: 'fulfilled', value }) as const,
        (reason: unknown) => {
          controller.abort(); // the streams and pg_restore stop now
          return { status: 'rejected', reason } as const;
        },
      ),
    );
  };
  const streamedTables = new Set(streamed.map(([table]) => table));
  try {
    /** One masked table, start to end, on a worker thread of its own. */
    const streamOne = async ([table, tableRules]: [string, Record<string, ColumnRule>]) => {
      const name = splitTableKey(table);
      const into = copyTarget(table, direct.copies);
      const result = await streamTable({
        archive: input.archive,
        target: input.next,
        schema: name.schema,
        table: name.table,
        hasData: withData.has(table),
        rules: tableRules,
        types: types.get(table) ?? new Map(),
        secret: anonymize.secret ?? '',
        domain: anonymize.domain,
        unique: uniqueRuledColumns(uniqueKeys, table, tableRules),
        signal: controller.signal,
        pool,
        threads: pool.threads,
        direct: direct.reads.get(table),
        copyInto: into,
        scratch: input.workDir,
      }).catch((error: unknown) => {
        controller.abort(); // the other streams and pg_restore stop now, not when they are done
        throw error;
      });
      tables.push({
        name: table,
        rows: result.rows,
        rowsPerSecond: Math.round(result.rows / Math.max(result.durationMs / 1000, 0.001)),
        ...(result.helpers > 0 && { helpers: result.helpers }),
        ...(result.rekeyed > 0 && { rekeyed: result.rekeyed }),
        readBy: direct.reads.has(table) ? 'archive' : 'pg_restore',
      });
      samples.set(
        table,
        into ? { ...result.samples, loadedInto: tableKey(into.schema, into.table) } : result.samples,
      );
      loaded({ table });
    };
    const work = [
      input.restoreData(listFile, controller.signal).then(() => loaded({ allBut: streamedTables })),
      // A masked stream is a pipeline (pg_restore → masking thread → server) whose stages wait on
      // each other; twice `jobs` streams keep the cores busy (measured: 3 streams instead of 2
      // cut the data section from 11.4 s to 9.7 s on 2 cores).
      mapConcurrent(streamed, 2 * jobs, streamOne),
    ];
    const settled = await Promise.allSettled(
      work.map((promise) =>
        promise.catch((error: unknown) => {
          controller.abort();
          throw error;
        }),
      ),
    );
    settled.push(...(await Promise.all(followUps)));
    const failures = settled
      .filter((s): s is PromiseRejectedResult => s.status === 'rejected')
      .map((s) => s.reason as Error);
    const real = failures.find((error) => !(error instanceof AbortedError)) ?? failures[0];
    if (real) throw real;
  } finally {
    stopFollowing();
    if (!input.pool) await pool.close();
  }
  for (const [table, value] of rules)
    if (value === 'truncate' || partitions.has(table))
      tables.push({ name: table, rows: 0, rowsPerSecond: 0 });
  return {
    record: {
      tables: tables.sort((a, b) => a.name.localeCompare(b.name)),
      findings,
      ...(direct.refused && streamed.length > 0 && { pgRestoreReads: direct.refused }),
    },
    samples,
  };
}

/**
 * Tables in the order their streams start: by their data's size in the archive, largest first
 * (pg_restore's own order for its parallel jobs); tables of unknown size after them, as listed.
 */
export function largestFirst<T>(
  tables: readonly [string, T][],
  sizes: ReadonlyMap<string, number>,
): [string, T][] {
  const size = (table: string) => sizes.get(table) ?? -1;
  return [...tables].sort((a, b) => size(b[0]) - size(a[0]));
}

/** Rows per table whose masked values the new database judges before any row is written. */
const FIT_SAMPLE_ROWS = 20;

/**
 * Rules follow the schema: each rule checked against its column's type, length, NOT NULL, CHECKs,
 * domain, unique keys and partition keys, on masked samples of the archive's own values, and
 * against the foreign keys between tables (both sides masked alike; no truncated table still
 * referenced). Throws ConfigError (exit 78) naming table, column, constraint and a rule that
 * fits; no row has been written.
 */
async function enforceRuleFit(
  input: AnonymizedDataInput,
  anonymize: Config['anonymize'],
  partitions: ReadonlyMap<string, readonly string[]>,
  direct: { reads: ReadonlyMap<string, DirectTableRead>; copies: ReadonlyMap<string, CopyStatement> },
  /** Tables the archive has rows for (its TABLE DATA entries). */
  withData: ReadonlySet<string>,
): Promise<UniqueKey[]> {
  const all = rulesByTable(anonymize);
  const tables = new Map(
    [...all].filter(
      (entry): entry is [string, Record<string, ColumnRule>] =>
        entry[1] !== 'truncate' && Object.keys(entry[1]).length > 0,
    ),
  );
  if (all.size === 0) return [];
  const [{ unique: uniqueKeys, foreign }, facts] = await Promise.all([
    // With no masked table, the keys are read only for the foreign-key check on truncated tables:
    // post-data this parser cannot read (a newer server's syntax) leaves that check out.
    tables.size > 0
      ? archiveKeys(input.archive, input.signal)
      : archiveKeys(input.archive, input.signal).catch((error: unknown) => {
          if (input.signal.aborted) throw error;
          return { unique: [], foreign: [] };
        }),
    withClient(input.next, 'staging-refresh:anonymize', loadColumnFacts),
  ]);
  const samples = new Map<string, Map<string, string[]>>();
  // Values are read only where the database has something to judge beyond what the strategy
  // knows statically (a CHECK, a domain, a length, a non-text type): the first rows of each such
  // table, from its data block (or a pg_restore where the reader cannot).
  const queue = [...tables].filter(
    ([table, rules]) =>
      withData.has(table) &&
      Object.entries(rules).some(([column, rule]) => needsValues(rule, facts.get(`${table}.${column}`))),
  );
  const sampler = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [table, rules] = next;
      samples.set(
        table,
        await sampleArchiveTable(
          input.archive,
          table,
          Object.keys(rules),
          FIT_SAMPLE_ROWS,
          input.signal,
          direct.reads.get(table),
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, input.config.target.jobs) }, sampler));
  // Partitions with a ruled partition-key column: does the archive load them through the root?
  await loadParser();
  const keyed = [...tables].filter(([table, rules]) =>
    Object.keys(rules).some((column) => facts.get(`${table}.${column}`)?.partitionKeys?.length),
  );
  const problems = await withClient(input.next, 'staging-refresh:anonymize', async (client) =>
    ruleFitProblems(client, {
      tables,
      facts,
      uniqueKeys,
      parents: partitionParents(partitions),
      loadedViaRoot: new Set(
        keyed.map(([table]) => table).filter((table) => copyTarget(table, direct.copies)),
      ),
      samples,
      prf: KeyedPrf.of(anonymize.secret ?? ''),
      domain: anonymize.domain,
    }),
  );
  problems.push(
    ...foreignKeyProblems({
      rules: all,
      foreignKeys: foreign,
      partitions,
      withData,
      facts,
      prf: KeyedPrf.of(anonymize.secret ?? ''),
      domain: anonymize.domain,
    }),
  );
  if (problems.length > 0) {
    throw ruleFitError(problems);
  }
  return uniqueKeys;
}

/**
 * The table the archive's data block for `table` COPYs into, where that is another table (a
 * partition dumped with --load-via-partition-root names its root, which routes each row by its
 * partition key). Unknown (no block this process reads, a statement it cannot parse): the table itself.
 */
function copyTarget(table: string, copies: ReadonlyMap<string, CopyStatement>): TableName | undefined {
  const read = copies.get(table);
  if (!read) return undefined;
  const bytes = Buffer.from(read.copyStmt, 'latin1');
  const statement = (
    /^utf-?8$/i.test(read.encoding ?? 'UTF8') ? bytes.toString('utf8') : read.copyStmt
  ).trim();
  try {
    const target = parseCopyLine(statement, table, 1);
    return tableKey(target.schema, target.table) === table ? undefined : target;
  } catch {
    return undefined;
  }
}

/** The archive listing with the TABLE DATA entries of `excluded` tables commented out. */
export function dataListing(
  listing: string,
  entries: readonly TocEntry[],
  excluded: ReadonlySet<string>,
): string {
  return withoutEntries(
    listing,
    entries.filter(
      (entry) => entry.type === 'TABLE DATA' && excluded.has(tableKey(entry.schema, entry.name)),
    ),
  );
}
