// Runs one migration the way its tool would — in a transaction or not, statement by statement —
// while the observer samples its locks and progress and the probes measure what it blocks.
import { setTimeout } from 'node:timers/promises';
import type pg from 'pg';
import { formatDuration } from '../../format/duration.js';
import { whenAborted } from '../../infra/concurrency/when-aborted.js';
import type { PgTarget } from '../../infra/pg/connection.js';
import { connect } from '../../infra/pg/with-client.js';
import type { Logger } from '../../log/logger.js';
import { bar, progressLine } from '../../log/progress-line.js';
import type { StatementTiming } from '../../observe/documented-locks.js';
import { LockTracker, type TrackedLock } from '../../observe/lock-tracker.js';
import { ProgressTracker } from '../../observe/progress-tracker.js';
import { type SamplerState, snapshotLocks, startSampler } from '../../observe/sampler.js';
import type {
  BlockingRecord,
  MigrationErrorRecord,
  RelationSizeRecord,
  StatementRecord,
  TransactionWaitRecord,
} from '../../record/run-record.js';
import type { ParsedStatement } from '../../sql/parse-sql.js';
import { tableKeySql } from '../../sql/table-key.js';
import type { MigrationAdapter, MigrationFile } from './adapters/adapter.js';
import { startBlockingObservation } from './blocking-observation.js';
import type { Rehearsal, RehearsalOutcome, RehearsalRun } from './rehearsal/rehearsal.js';
import { relationSizes } from './relations.js';
import { type ExecutionMode, TransactionControl } from './transaction-control.js';

export interface ExecuteOptions {
  target: PgTarget;
  adapter: MigrationAdapter;
  file: MigrationFile;
  statements: readonly ParsedStatement[];
  transactional: boolean;
  /** How the tool sends the file (default: `transaction` when transactional, else `autocommit`). */
  mode?: ExecutionMode;
  /** Write the tool's history (false for rollback rehearsal runs). */
  recordHistory: boolean;
  observer: {
    /** false: no sampler, no probes (the benchmark's baseline for the observer's overhead). */
    enabled?: boolean;
    intervalMs: number;
    probes: boolean;
    probeIntervalMs: number;
    probeLockTimeoutMs: number;
    maxProbedTables: number;
    /** Rows per table the row probe locks (default 5; 0: no row probe). */
    probeRows?: number;
    /** The tool's history tables: never probed. */
    historyTables?: readonly string[];
  };
  statementTimeoutMs?: number | undefined;
  /** Production's settings, cache state and traffic for this timing (#22). */
  rehearsal?: Rehearsal | undefined;
  /** performance.now() by which the whole migrate step must be done (migrations.budget). */
  deadline?: number | undefined;
  log: Logger;
  signal: AbortSignal;
}

export interface ExecuteResult {
  ok: boolean;
  durationMs: number;
  statements: StatementRecord[];
  locks: TrackedLock[];
  blocking: BlockingRecord[];
  /** Other sessions waiting on the migration's transaction id (row locks). */
  transactionWaits?: TransactionWaitRecord;
  progress: ReturnType<ProgressTracker['result']>;
  relations: RelationSizeRecord[];
  error?: MigrationErrorRecord;
  /** The conditions the timing was taken with, and the production estimate (#22). */
  rehearsal?: RehearsalOutcome;
}

/** Executes one migration and observes it. Never throws for a failing statement: the result says. */
export async function executeMigration(options: ExecuteOptions): Promise<ExecuteResult> {
  const { target, statements, log } = options;
  const migration = await connect(target, 'staging-refresh:migrate');
  const observer = await connect(target, 'staging-refresh:observer');
  let rehearsalRun: RehearsalRun | undefined;
  try {
    const pid = Number(
      (await migration.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid,
    );
    const blockingObservation = await startBlockingObservation(target, observer, statements, {
      ...options.observer,
      probes: options.observer.probes && options.observer.enabled !== false,
    });
    const probeTables = blockingObservation.upFront;
    const sizesBefore = await relationSizes(
      observer,
      probeTables.map((table) => table.name),
    );
    // #22: settings on this session, cache state, traffic — before the clock starts.
    rehearsalRun = await options.rehearsal?.begin(migration, pid, statements, options.recordHistory);
    const origin = performance.now();
    const locks = new LockTracker(origin);
    const tty = progressLine();
    const progress = new ProgressTracker(
      (sample, fraction) =>
        log.info(
          {
            migration: options.file.name,
            command: sample.command,
            relation: sample.relation,
            phase: sample.phase,
          },
          `${sample.command} ${sample.relation}: ${sample.phase}${fraction !== undefined ? ` (${Math.round(fraction * 100)}%)` : ''}`,
        ),
      (sample, fraction, etaMs) =>
        tty.update(
          `${options.file.name}: ${sample.command} ${sample.relation} ${fraction !== undefined ? `${bar(fraction)} ${Math.round(fraction * 100)}% ` : ''}${sample.phase}${etaMs !== undefined ? ` ETA ${formatDuration(etaMs)}` : ''}`,
        ),
    );
    const state: SamplerState = { statementStart: origin, statement: 0 };
    const sampler =
      options.observer.enabled === false
        ? { stop: async () => ({ samples: 0, errors: 0 }) }
        : startSampler(
            observer,
            pid,
            options.observer.intervalMs,
            locks,
            progress,
            state,
            blockingObservation.waits,
            blockingObservation.onLocks,
          );
    const stopFollowing = whenAborted(
      options.signal,
      () => void observer.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined),
    );

    const records: StatementRecord[] = [];
    const timings: StatementTiming[] = [];
    const heldOpen: StatementTiming[] = [];
    let error: MigrationErrorRecord | undefined;
    const mode = options.mode ?? (options.transactional ? 'transaction' : 'autocommit');
    const control = new TransactionControl(migration, mode, statements.length);
    try {
      if (options.recordHistory) await options.adapter.before?.(migration, options.file);
      for (const [index, statement] of statements.entries()) {
        if (options.signal.aborted) {
          // Stopped between two statements: the cancel had nothing to cancel; the rest never starts.
          error = {
            message: 'cancelled: the run was stopped before this statement',
            line: statement.line,
            statement: statement.sql,
          };
          break;
        }
        await control.beforeStatement();
        const inTransaction = control.open;
        await applyTimeout(migration, options);
        state.statement = index;
        const started = performance.now();
        state.statementStart = started;
        let result: pg.QueryResult | pg.QueryResult[] | undefined;
        try {
          result = await migration.query(statement.sql);
        } catch (statementError) {
          error = statementErrorRecord(statementError, statement, options);
        }
        const finished = performance.now();
        const serverMs = await serverTimeOf(observer, pid);
        records.push({
          sql: statement.sql,
          line: statement.line,
          durationMs: round(finished - started),
          ...(serverMs !== undefined && { serverMs }),
          ...(result && { rows: rowsOf(result) }),
          inTransaction,
          ...(error && { error }),
        });
        const timing = { index, startMs: started - origin, heldMs: finished - started };
        timings.push(timing);
        heldOpen.push(timing);
        // Locks taken in a transaction are held until it ends.
        if (!control.open) holdUntil(heldOpen, finished - origin);
        if (error) break;
        if (control.open) locks.observe(await snapshotLocks(migration, pid), finished, started, index);
        else locks.releaseAll(finished);
      }
      if (!error && options.recordHistory && options.adapter.historyInTransaction) {
        await options.adapter.recordSuccess(migration, options.file, performance.now() - origin);
      }
      if (control.open && !error)
        locks.observe(
          await snapshotLocks(migration, pid),
          performance.now(),
          state.statementStart,
          state.statement,
        );
      await control.end(!error);
      holdUntil(heldOpen, performance.now() - origin);
      locks.releaseAll(performance.now());
      if (!error && options.recordHistory && !options.adapter.historyInTransaction) {
        await options.adapter.recordSuccess(migration, options.file, performance.now() - origin);
      }
      if (error && options.recordHistory) {
        const failure = { message: error.message, mode, durationMs: performance.now() - origin };
        await options.adapter.recordFailure?.(migration, options.file, failure);
      }
    } catch (unexpected) {
      error ??= { message: (unexpected as Error).message, ...sqlstateOf(unexpected) };
      if (control.open) await migration.query('ROLLBACK').catch(() => undefined);
      locks.releaseAll(performance.now());
    } finally {
      stopFollowing();
    }
    const end = performance.now();
    const conditions = await rehearsalRun?.end(
      end - origin,
      records.map((record) => record.durationMs),
    );
    await sampler.stop();
    tty.done();
    await nameUnseenRelations(observer, locks);
    const sampled = locks.result(end);
    const observed = await blockingObservation.finish(timings, sampled);
    const relations = await relationSizes(
      observer,
      probeTables.map((table) => table.name),
      sizesBefore,
    );
    const phases = progress.result();
    if (error?.sqlstate === '57014') {
      const last = phases.at(-1);
      if (last) {
        error.reached = `${last.command} ${last.relation}: ${last.phase}${last.done !== undefined ? ` ${Math.round(last.done * 100)}%` : ''}`;
        error.message += `; it got as far as ${error.reached}`; // the statement record shares this object
      }
    }
    return {
      ok: error === undefined,
      durationMs: round(end - origin),
      statements: records,
      locks: [...sampled, ...observed.documented],
      blocking: observed.blocking,
      ...(observed.transactionWaits && { transactionWaits: observed.transactionWaits }),
      ...(conditions && { rehearsal: conditions }),
      progress: phases,
      relations,
      ...(error && { error }),
    };
  } finally {
    await rehearsalRun?.abandon();
    await migration.end().catch(() => undefined);
    await observer.end().catch(() => undefined);
  }
}

/** The statements whose transaction ended at `endMs` held their locks until then. */
function holdUntil(open: StatementTiming[], endMs: number): void {
  for (const timing of open.splice(0)) timing.heldMs = Math.max(timing.heldMs, endMs - timing.startMs);
}

/**
 * Server-side time of the statement the backend `pid` just finished: pg_stat_activity keeps
 * query_start and state_change (the moment it went idle) until the next statement starts, and
 * the executor asks before it sends the next one. After an error the client can hear of it
 * before the backend has finished cleaning up and reported itself idle, so an 'active' answer
 * is asked again briefly. Undefined when track_activities is off.
 */
async function serverTimeOf(observer: pg.Client, pid: number): Promise<number | undefined> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const result = await observer
      .query<{ ms: number | null; state: string | null }>(
        `SELECT state, (extract(epoch FROM state_change - query_start) * 1000)::float8 AS ms
           FROM pg_stat_activity WHERE pid = $1`,
        [pid],
      )
      .catch(() => undefined);
    const row = result?.rows[0];
    if (!row || row.state === null) return undefined;
    if (row.state !== 'active') return row.ms === null ? undefined : round(row.ms);
    await setTimeout(10);
  }
  return undefined;
}

/** statement_timeout for the next statement: the configured one, capped by what the budget has left. */
async function applyTimeout(client: pg.Client, options: ExecuteOptions): Promise<void> {
  const left =
    options.deadline !== undefined
      ? Math.max(1, Math.floor(options.deadline - performance.now()))
      : undefined;
  const timeout = [options.statementTimeoutMs, left].filter((value): value is number => value !== undefined);
  if (timeout.length === 0) return;
  await client.query(`SET statement_timeout = ${Math.min(...timeout)}`);
}

function statementErrorRecord(
  error: unknown,
  statement: ParsedStatement,
  options: ExecuteOptions,
): MigrationErrorRecord {
  const fields = error as { message?: string; code?: string; position?: string };
  const position = fields.position ? Number(fields.position) : undefined;
  const line = position
    ? statement.line + countNewlines(statement.sql.slice(0, position - 1))
    : statement.line;
  let message = fields.message ?? String(error);
  if (fields.code === '57014') {
    message =
      options.deadline !== undefined && performance.now() >= options.deadline - 5
        ? `cancelled: the migrations.budget ran out during this statement (${message})`
        : /statement timeout/.test(message)
          ? `cancelled after ${formatDuration(options.statementTimeoutMs ?? 0)} by migrations.statementTimeout (${message})`
          : `cancelled: the run was stopped (${message})`; // #15: a SIGTERM is not a timeout
  }
  return {
    message,
    ...(fields.code && { sqlstate: fields.code }),
    line,
    ...(position && { position }),
    statement: statement.sql,
  };
}

function sqlstateOf(error: unknown): { sqlstate?: string } {
  const code = (error as { code?: string }).code;
  return code ? { sqlstate: code } : {};
}

async function nameUnseenRelations(client: pg.Client, locks: LockTracker): Promise<void> {
  const oids = locks.unnamedOids();
  if (oids.length === 0) return;
  const result = await client.query<{ oid: string; relation: string; kind: string }>(
    `SELECT c.oid::bigint AS oid, ${tableKeySql('n.nspname', 'c.relname')} AS relation, c.relkind::text AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ANY($1::oid[])`,
    [oids],
  );
  locks.nameRelations(
    new Map(result.rows.map((row) => [Number(row.oid), { relation: row.relation, kind: row.kind }])),
  );
}

function rowsOf(result: pg.QueryResult | pg.QueryResult[]): number | null {
  const last = Array.isArray(result) ? result[result.length - 1] : result;
  return last?.rowCount ?? null;
}

function countNewlines(text: string): number {
  let count = 0;
  for (const char of text) if (char === '\n') count++;
  return count;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
