// migrations.tool: command — the application's own migration CLI (rails db:migrate, alembic
// upgrade head, …) with DATABASE_URL pointed at the new database. Timed as a whole; what it ran
// and locked is seen by sampling the database, and the statements seen are linted.

import type { MigrationsConfig } from '../../config/schema.js';
import { AbortedError } from '../../errors.js';
import { formatDuration } from '../../format/duration.js';
import type { PgTarget } from '../../infra/pg/connection.js';
import { connect } from '../../infra/pg/with-client.js';
import { runTool, ToolFailedError } from '../../infra/process/run-tool.js';
import type { Logger } from '../../log/logger.js';
import { type SeenStatement, startActivitySampler } from '../../observe/activity-sampler.js';
import { LockTracker, type TrackedLock } from '../../observe/lock-tracker.js';
import type { BlockingRecord, LockRecord, MigrationRecord } from '../../record/run-record.js';
import { createdRelations } from '../../sql/created-relations.js';
import { blockedOperations } from '../../sql/lock-conflicts.js';
import { type ParsedStatement, parseStatements } from '../../sql/parse-sql.js';
import { type BlockingObservationOptions, startExternalBlockingObservation } from './blocking-observation.js';
import { lintMigration } from './lint/lint-migration.js';
import { monitoringQueries } from './monitoring-queries.js';
import { capBlocking, decideVerdict } from './verdict.js';

/** postgres://user:password@host:port/db for the tool's DATABASE_URL (its environment only, never argv or logs). */
export function databaseUrl(target: PgTarget): string {
  const auth = `${encodeURIComponent(target.user)}${target.password !== undefined ? `:${encodeURIComponent(target.password)}` : ''}`;
  const params = new URLSearchParams(target.params).toString();
  return `postgres://${auth}@${target.host}:${target.port}/${encodeURIComponent(target.database)}${params ? `?${params}` : ''}`;
}

/** What was seen while an external tool migrated. */
export interface ExternalObservation {
  durationMs: number;
  seen: SeenStatement[];
  locks: LockRecord[];
  /** Whether the migration's statements ran inside a transaction, when the observer could tell. */
  transactional?: boolean;
  /** Measured by probes started on the relations seen locked (#18). */
  blocking?: BlockingRecord[];
  error?: string;
}

/** Probe settings from the migrations config (#18). */
export function probeOptionsOf(config: MigrationsConfig): BlockingObservationOptions {
  const { observer } = config;
  return {
    probes: observer.probes,
    probeIntervalMs: observer.probeInterval,
    probeLockTimeoutMs: observer.probeLockTimeout,
    probeRows: observer.probeRows,
    maxProbedTables: observer.maxProbedTables,
    historyTables: config.historyTable ? [config.historyTable] : [],
  };
}

/** Runs `work` (an external tool doing its migration) while sampling the database it works on. */
export async function observeExternal(
  target: PgTarget,
  intervalMs: number,
  work: () => Promise<void>,
  probeOptions?: BlockingObservationOptions,
): Promise<ExternalObservation> {
  const observer = await connect(target, 'staging-refresh:observer');
  const watch = probeOptions
    ? await startExternalBlockingObservation(target, observer, probeOptions)
    : undefined; // #18
  const origin = performance.now();
  const tracker = new LockTracker(origin);
  const sampler = startActivitySampler(observer, intervalMs, tracker, watch?.onLocks);
  let error: string | undefined;
  try {
    await work();
  } catch (failure) {
    if (failure instanceof AbortedError) throw failure;
    error = (failure as Error).message;
  } finally {
    tracker.releaseAll(performance.now());
  }
  const durationMs = Math.round(performance.now() - origin);
  const seen = await sampler.stop();
  const sampled = tracker.result(performance.now());
  const probed = watch ? await watch.finish(seen, origin, sampled) : undefined; // #18
  await observer.end().catch(() => undefined);
  return {
    durationMs,
    seen,
    locks: lockRecordsOf(tracker, probed?.documented),
    ...(probed && { blocking: probed.blocking }),
    ...(error !== undefined && { error }),
  };
}

/** The tracker's locks as run-record entries, with what each blocks. */
export function lockRecordsOf(tracker: LockTracker, documented: readonly TrackedLock[] = []): LockRecord[] {
  return [...tracker.result(performance.now()), ...documented].map((lock) => ({
    relation: lock.relation ?? `transient relation (oid ${lock.oid})`,
    mode: lock.mode,
    heldMs: lock.heldMs,
    acquiredAtMs: lock.acquiredAtMs,
    kind: lock.kind ?? 'transient',
    blocks: blockedOperations(lock.mode),
    ...(lock.table && { table: lock.table }),
    statement: lock.statement,
    ...(lock.source && { source: lock.source }),
  }));
}

/** The run record of a migration an external tool ran: statements seen, locks, lint of what was seen. */
export function externalMigrationRecord(
  name: string,
  observed: ExternalObservation,
  config: MigrationsConfig,
  rollback: MigrationRecord['rollback'],
): MigrationRecord {
  const parsed: ParsedStatement[] = observed.seen.flatMap((statement) => {
    try {
      return parseStatements(statement.sql);
    } catch {
      return [];
    }
  });
  const lint = lintMigration(parsed, { inTransaction: false, disable: config.lint.disable })
    .filter((finding) => finding.rule !== 'missing-lock-timeout')
    .map((f) => ({ rule: f.rule, severity: f.severity, line: 0, message: f.message, fix: f.fix }));
  const status = observed.error === undefined ? 'applied' : 'failed';
  const statements = observed.seen.map((statement) => ({
    sql: statement.sql.length > 4000 ? `${statement.sql.slice(0, 4000)}…` : statement.sql,
    line: 0,
    durationMs: Math.max(config.observer.interval, Math.round(statement.lastSeenAt - statement.startedAt)),
  }));
  const blocking = capBlocking(observed.blocking ?? [], observed.locks);
  const verdict = decideVerdict({
    status,
    durationMs: observed.durationMs,
    locks: observed.locks,
    blocking,
    lint,
    errorMessage: observed.error,
    dangerousMs: config.dangerousBlocking,
    statements,
    createdHere: createdRelations(parsed),
    historyTables: config.historyTable ? [config.historyTable] : [],
    ...(observed.transactional !== undefined && { transactional: observed.transactional }),
  });
  return {
    name,
    status,
    durationMs: observed.durationMs,
    // Absent when unknown: a CLI's transactions are not visible from outside between samples.
    ...(observed.transactional !== undefined && { transactional: observed.transactional }),
    statements,
    locks: observed.locks,
    blocking,
    lint,
    rollback,
    monitoringQueries: monitoringQueries(parsed, [
      ...new Set(observed.locks.filter((l) => l.kind === 'r').map((l) => l.relation)),
    ]),
    ...verdict,
    ...(observed.error !== undefined && { error: { message: observed.error } }),
  };
}

/** Runs the configured command once and records it as one migration. */
export async function runCommandMigration(
  config: MigrationsConfig,
  target: PgTarget,
  cwd: string | undefined,
  log: Logger,
  signal: AbortSignal,
  /** #22: production's session settings, for the tool's own connections. */
  pgOptions?: string,
): Promise<MigrationRecord> {
  const argv = config.command ?? [];
  const name = `command: ${argv.join(' ')}`;
  const url = databaseUrl(target);
  const observed = await observeExternal(
    target,
    config.observer.interval,
    async () => {
      const [file, ...args] = argv as [string, ...string[]];
      try {
        await runTool({
          file,
          args,
          ...(cwd && { cwd }),
          env: {
            DATABASE_URL: url,
            PGHOST: target.host,
            PGPORT: String(target.port),
            PGUSER: target.user,
            PGDATABASE: target.database,
            ...(target.password !== undefined && { PGPASSWORD: target.password }),
            ...(pgOptions && { PGOPTIONS: pgOptions }),
          },
          signal,
        });
      } catch (failure) {
        if (failure instanceof ToolFailedError)
          throw new Error(failure.message.replaceAll(url, '[DATABASE_URL]'));
        throw failure;
      }
    },
    probeOptionsOf(config),
  );
  log.info(
    { migration: name, durationMs: observed.durationMs, statementsSeen: observed.seen.length },
    `${name}: ${observed.error ? 'failed' : 'applied'} in ${formatDuration(observed.durationMs)}`,
  );
  return externalMigrationRecord(name, observed, config, { status: 'not-supported', durationMs: 0 });
}
