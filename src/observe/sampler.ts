// The observer connection: while a migration runs it samples pg_locks (joined with pg_class /
// pg_namespace) and the pg_stat_progress_* views for the migration's backend.
import type pg from 'pg';
import { tableKeySql } from '../sql/table-key.js';
import type { LockTracker, ObservedLock } from './lock-tracker.js';
import type { ProgressSample, ProgressTracker } from './progress-tracker.js';

/** Relation locks of some backends ($1: pid[]) in the current database, system catalogs left out. */
export const LOCKS_SQL = `
  SELECT l.relation::bigint AS oid, l.mode, l.granted,
         CASE WHEN c.oid IS NULL THEN NULL ELSE ${tableKeySql('n.nspname', 'c.relname')} END AS relation,
         c.relkind::text AS kind,
         CASE WHEN tc.oid IS NULL THEN NULL ELSE ${tableKeySql('tn.nspname', 'tc.relname')} END AS "table"
    FROM pg_locks l
    LEFT JOIN pg_class c ON c.oid = l.relation
    LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_index ix ON ix.indexrelid = l.relation
    LEFT JOIN pg_class tc ON tc.oid = ix.indrelid
    LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
   WHERE l.pid = ANY($1) AND l.locktype = 'relation'
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND (n.nspname IS NULL OR (n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'))`;

/** Every progress view, normalised to phase / done / total. */
export const PROGRESS_SQL = `
  SELECT 'CREATE INDEX' AS command, relid::regclass::text AS relation, phase,
         coalesce(nullif(blocks_done, 0), tuples_done)::float8 AS done,
         coalesce(nullif(blocks_total, 0), tuples_total)::float8 AS total
    FROM pg_stat_progress_create_index WHERE pid = $1
  UNION ALL
  SELECT command, relid::regclass::text, phase, heap_blks_scanned::float8, heap_blks_total::float8
    FROM pg_stat_progress_cluster WHERE pid = $1
  UNION ALL
  SELECT 'VACUUM', relid::regclass::text, phase, heap_blks_scanned::float8, heap_blks_total::float8
    FROM pg_stat_progress_vacuum WHERE pid = $1
  UNION ALL
  SELECT 'ANALYZE', relid::regclass::text, phase, sample_blks_scanned::float8, sample_blks_total::float8
    FROM pg_stat_progress_analyze WHERE pid = $1
  UNION ALL
  SELECT command, relid::regclass::text, type, bytes_processed::float8, nullif(bytes_total, 0)::float8
    FROM pg_stat_progress_copy WHERE pid = $1`;

/**
 * The query on `client` as a named prepared statement when `prepared` (planned once per
 * connection, not on every sample: measured on this machine, the lock query costs the server
 * 1.4 ms planned each time and 0.34 ms prepared, the progress union 2.1 ms and 0.14 ms). Only on
 * the observer's own connections: a migration's session may DEALLOCATE what it did not prepare.
 */
export function observerQuery(name: string, text: string, values: unknown[], prepared: boolean) {
  return prepared ? { name: `staging-refresh:${name}`, text, values } : { text, values };
}

/** Takes a lock snapshot of `pid` (or of several backends) on any connection (prepared: see observerQuery). */
export async function snapshotLocks(
  client: pg.Client,
  pid: number | number[],
  prepared = false,
): Promise<ObservedLock[]> {
  const result = await client.query<{
    oid: string;
    mode: string;
    granted: boolean;
    relation: string | null;
    kind: string | null;
    table: string | null;
  }>(observerQuery('locks', LOCKS_SQL, [Array.isArray(pid) ? pid : [pid]], prepared));
  return result.rows.map(toObservedLock);
}

/** A row of LOCKS_SQL (oid as text from a query, as a number from json_agg). */
interface LockRow {
  oid: string | number;
  mode: string;
  granted: boolean;
  relation: string | null;
  kind: string | null;
  table: string | null;
}

function toObservedLock(row: LockRow): ObservedLock {
  return {
    oid: Number(row.oid),
    mode: row.mode,
    granted: row.granted,
    relation: row.relation,
    kind: row.kind,
    table: row.table,
  };
}

/**
 * Runs `tick` every `intervalMs` (from the start of one tick to the next) until stop() is
 * awaited. A failing tick is counted, never thrown: the observer never fails a migration.
 */
export function pollEvery(
  intervalMs: number,
  tick: (started: number) => Promise<void>,
): { stop: () => Promise<{ ticks: number; errors: number }> } {
  let running = true;
  let ticks = 0;
  let errors = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        await tick(started);
        ticks++;
      } catch {
        errors++;
      }
      const wait = intervalMs - (performance.now() - started);
      if (running && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { ticks, errors };
    },
  };
}

export interface SamplerState {
  /** performance.now() when the running statement started. */
  statementStart: number;
  statement: number;
}

/** Sessions waiting on a lock of the transaction id backend $1 holds (row locks it took). */
const XID_WAITERS_SQL = `
  SELECT count(DISTINCT w.pid)::int AS waiters FROM pg_locks w
   WHERE w.locktype = 'transactionid' AND NOT w.granted
     AND w.transactionid IN (SELECT transactionid FROM pg_locks
                              WHERE pid = $1 AND locktype = 'transactionid' AND granted)`;

/** One sample of the migration's backend ($1: [pid], $2: pid): its locks, progress and xid waiters. */
const SAMPLE_SQL = `
  SELECT (SELECT coalesce(json_agg(l), '[]') FROM (${LOCKS_SQL}) l) AS locks,
         (SELECT coalesce(json_agg(p), '[]') FROM (${PROGRESS_SQL.replaceAll('$1', '$2')}) p) AS progress,
         (${XID_WAITERS_SQL.replaceAll('$1', '$2')}) AS waiters`;

/** Time during which other sessions waited on the migration's transaction id, sample by sample. */
export class TransactionWaits {
  private waitedMs = 0;
  private maxWaiters = 0;
  private last: number | undefined;

  /** `waiters` seen waiting at `at`; a sample with waiters counts the time since the previous sample. */
  observe(waiters: number, at: number): void {
    if (waiters > 0 && this.last !== undefined) this.waitedMs += at - this.last;
    this.maxWaiters = Math.max(this.maxWaiters, waiters);
    this.last = at;
  }

  /** Undefined when nobody ever waited. */
  result(): { waitedMs: number; maxWaiters: number } | undefined {
    return this.maxWaiters > 0
      ? { waitedMs: Math.round(this.waitedMs), maxWaiters: this.maxWaiters }
      : undefined;
  }
}

/** Samples until stop() is awaited. Errors of the observer never fail the migration. */
export function startSampler(
  client: pg.Client,
  pid: number,
  intervalMs: number,
  locks: LockTracker,
  progress: ProgressTracker,
  state: SamplerState,
  /** Also count sessions waiting on the migration's transaction id. */
  waits?: TransactionWaits,
  /** Called with every lock sample (e.g. to start probes on a relation as soon as it is locked). */
  onLocks?: (observed: readonly ObservedLock[], at: number) => void,
): { stop: () => Promise<{ samples: number; errors: number }> } {
  // One round trip a sample: locks, progress and transaction-id waiters in one prepared
  // statement. Measured on this machine, each extra query a sample costs the server more in
  // waking its backend than in running the query.
  const poll = pollEvery(intervalMs, async (started) => {
    const { rows } = await client.query<{ locks: LockRow[]; progress: ProgressSample[]; waiters: number }>(
      observerQuery('sample', SAMPLE_SQL, [[pid], pid], true),
    );
    const sample = rows[0];
    if (!sample) return;
    const observed = sample.locks.map(toObservedLock);
    locks.observe(observed, started, state.statementStart, state.statement);
    onLocks?.(observed, started);
    progress.observe(sample.progress, started);
    waits?.observe(sample.waiters, started);
  });
  return {
    stop: async () => {
      const { ticks, errors } = await poll.stop();
      return { samples: ticks, errors };
    },
  };
}
