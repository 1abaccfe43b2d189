// Everything that measures what a migration blocks, started before it runs and finished after:
// probes on the relations its statements name (up front) and on any other relation seen locked
// (as soon as it is seen), waits on its transaction id, and the documented locks of statements
// too short for sampling. One call each side of the migration, so the runner stays readable.
import type pg from 'pg';
import type { PgTarget } from '../../infra/pg/connection.js';
import { BlockingProbes, type ProbeTarget } from '../../observe/blocking-probes.js';
import { isBookkeepingTable } from '../../observe/bookkeeping-tables.js';
import {
  documentedShortLocks,
  type ResolvedRelation,
  resolveDocumentedRelations,
  type StatementTiming,
} from '../../observe/documented-locks.js';
import type { ObservedLock, TrackedLock } from '../../observe/lock-tracker.js';
import { existingRelations, probeOnSight } from '../../observe/probe-on-sight.js';
import { TransactionWaits } from '../../observe/sampler.js';
import type { BlockingRecord, TransactionWaitRecord } from '../../record/run-record.js';
import { type ParsedStatement, parseStatements } from '../../sql/parse-sql.js';
import { tablesToProbe } from './relations.js';

export interface BlockingObservationOptions {
  probes: boolean;
  probeIntervalMs: number;
  probeLockTimeoutMs: number;
  probeRows?: number | undefined;
  maxProbedTables: number;
  historyTables?: readonly string[] | undefined;
}

/** A started observation: feed it lock samples, finish it after the migration. */
export interface BlockingObservation {
  /** Relations probed from the start. */
  upFront: ProbeTarget[];
  /** Waits on the migration's transaction id (give to the sampler). */
  waits: TransactionWaits;
  /** Lock samples go here: starts probes on relations not probed yet. */
  onLocks: (observed: readonly ObservedLock[], at: number) => void;
  finish(
    timings: readonly StatementTiming[],
    sampled: readonly TrackedLock[],
  ): Promise<{
    blocking: BlockingRecord[];
    documented: TrackedLock[];
    transactionWaits?: TransactionWaitRecord;
  }>;
}

/** Starts probing (resolves when the up-front probes are ready, so the migration can start). */
export async function startBlockingObservation(
  target: PgTarget,
  observer: pg.Client,
  statements: readonly ParsedStatement[],
  options: BlockingObservationOptions,
): Promise<BlockingObservation> {
  const resolved: Map<string, ResolvedRelation> = await resolveDocumentedRelations(
    observer,
    statements,
  ).catch(() => new Map());
  const waits = new TransactionWaits();
  const upFront = options.probes
    ? await tablesToProbe(observer, statements, options.maxProbedTables, options.historyTables)
    : [];
  const probes = options.probes
    ? await BlockingProbes.start(
        target,
        upFront,
        {
          intervalMs: options.probeIntervalMs,
          lockTimeoutMs: options.probeLockTimeoutMs,
          rows: options.probeRows ?? 5,
        },
        options.maxProbedTables,
      )
    : undefined;
  const existing = probes ? await existingRelations(observer) : new Set<number>();
  const onSight = probes ? probeOnSight(probes, existing, options.historyTables) : () => undefined;
  return {
    upFront,
    waits,
    onLocks: onSight,
    async finish(timings, sampled) {
      const blocking = probes ? await probes.stop() : [];
      const transactionWaits = waits.result();
      return {
        blocking,
        documented: documentedShortLocks(statements, timings, sampled, resolved),
        ...(transactionWaits && { transactionWaits }),
      };
    },
  };
}

/** For a migration another tool runs: probes started on sight, documented locks of what was seen. */
export interface ExternalBlockingObservation {
  onLocks: (observed: readonly ObservedLock[], at: number) => void;
  /** `seen`: statements seen (text, start and last sight); `origin`: the migration's start. */
  finish(
    seen: readonly { sql: string; startedAt: number; lastSeenAt: number }[],
    origin: number,
    sampled: readonly TrackedLock[],
  ): Promise<{ blocking: BlockingRecord[]; documented: TrackedLock[] }>;
}

/** Starts watching an external tool's migration (`observer` must stay open until finish()). */
export async function startExternalBlockingObservation(
  target: PgTarget,
  observer: pg.Client,
  options: BlockingObservationOptions,
): Promise<ExternalBlockingObservation> {
  const watch = await startBlockingObservation(target, observer, [], options);
  return {
    onLocks: watch.onLocks,
    async finish(seen, origin, sampled) {
      const { blocking } = await watch.finish([], sampled);
      const parsed: ParsedStatement[] = [];
      const timings: StatementTiming[] = [];
      const seenIndex: number[] = [];
      seen.forEach((statement, index) => {
        let statements: ParsedStatement[] = [];
        try {
          statements = parseStatements(statement.sql);
        } catch {
          return; // not SQL the parser knows (or cut short): nothing documented
        }
        for (const one of statements) {
          timings.push({
            index: parsed.length,
            startMs: statement.startedAt - origin,
            heldMs: Math.max(1, statement.lastSeenAt - statement.startedAt),
          });
          parsed.push(one);
          seenIndex.push(index);
        }
      });
      const resolved = await resolveDocumentedRelations(observer, parsed).catch(
        () => new Map<string, ResolvedRelation>(),
      );
      const documented = documentedShortLocks(parsed, timings, sampled, resolved)
        .filter((lock) => !isBookkeepingTable(lock.relation ?? '', options.historyTables))
        .map((lock) => ({ ...lock, statement: seenIndex[lock.statement] ?? 0 }));
      return { blocking, documented };
    },
  };
}
