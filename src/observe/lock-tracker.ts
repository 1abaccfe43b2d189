// Turns pg_locks samples of the migration's backend into held intervals per relation and mode.
// Samples come from the observer connection (every interval) and from snapshots the migration's
// own connection takes after each statement inside its transaction; releases are known exactly
// at statement end (autocommit) or commit.

/** One row of pg_locks for the migration's backend. */
export interface ObservedLock {
  oid: number;
  /** `schema.name`, or null when the observer cannot see it yet (created in the open transaction). */
  relation: string | null;
  kind: string | null;
  mode: string;
  granted: boolean;
  /** For an index: `schema.table` it belongs to. */
  table?: string | null;
}

interface Interval {
  from: number;
  to?: number;
}

interface Entry {
  oid: number;
  relation: string | null;
  kind: string | null;
  table: string | null;
  mode: string;
  holds: Interval[];
  waits: Interval[];
  /** Index of the statement running when it was first seen. */
  statement: number;
}

/** A lock as reported: times in ms from the migration's start. */
export interface TrackedLock {
  oid: number;
  relation: string | null;
  kind: string | null;
  table: string | null;
  mode: string;
  acquiredAtMs: number;
  heldMs: number;
  waitedMs: number;
  statement: number;
  /** 'documented': not sampled (held less than one interval), from the statement's documented lock. */
  source?: 'documented';
}

/** Folds observations into intervals. Times are performance.now() values. */
export class LockTracker {
  private readonly entries = new Map<string, Entry>();
  private lastRelease = Number.NEGATIVE_INFINITY;
  private lastObservation = Number.NEGATIVE_INFINITY;

  constructor(private readonly origin: number) {}

  /**
   * A full picture of the backend's relation locks taken at `at`. Locks not seen before were
   * acquired after `notBefore` (the later of the previous observation and the statement start).
   */
  observe(locks: readonly ObservedLock[], at: number, statementStart: number, statement: number): void {
    if (at < this.lastRelease) return; // a sample that started before a release we already applied
    const notBefore = Math.max(this.lastObservation, statementStart);
    const present = new Set<string>();
    for (const lock of locks) {
      const key = `${lock.oid}|${lock.mode}`;
      present.add(key);
      let entry = this.entries.get(key);
      if (!entry) {
        entry = {
          oid: lock.oid,
          relation: lock.relation,
          kind: lock.kind,
          table: lock.table ?? null,
          mode: lock.mode,
          holds: [],
          waits: [],
          statement,
        };
        this.entries.set(key, entry);
      }
      entry.relation ??= lock.relation;
      entry.kind ??= lock.kind;
      entry.table ??= lock.table ?? null;
      const intervals = lock.granted ? entry.holds : entry.waits;
      if (!isOpen(intervals)) intervals.push({ from: Math.min(notBefore, at) });
      // A wait that became a hold ended when the hold began: at the earliest plausible moment.
      if (lock.granted) closeOpen(entry.waits, Math.min(notBefore, at));
    }
    for (const [key, entry] of this.entries) {
      if (present.has(key)) continue;
      closeOpen(entry.holds, at);
      closeOpen(entry.waits, at);
    }
    this.lastObservation = at;
  }

  /** Every lock of the backend was released at `at` (statement end in autocommit, COMMIT, ROLLBACK). */
  releaseAll(at: number): void {
    for (const entry of this.entries.values()) {
      closeOpen(entry.holds, at);
      closeOpen(entry.waits, at);
    }
    this.lastRelease = at;
    this.lastObservation = at;
  }

  /** Names for relations the observer could not see while they were uncommitted. */
  nameRelations(names: ReadonlyMap<number, { relation: string; kind: string }>): void {
    for (const entry of this.entries.values()) {
      const known = names.get(entry.oid);
      if (known && entry.relation === null) {
        entry.relation = known.relation;
        entry.kind = known.kind;
      }
    }
  }

  /** Oids still without a name. */
  unnamedOids(): number[] {
    return [...this.entries.values()].filter((entry) => entry.relation === null).map((entry) => entry.oid);
  }

  /** The locks, strongest hold first; open intervals end at `end`. */
  result(end: number): TrackedLock[] {
    return [...this.entries.values()]
      .filter((entry) => entry.holds.length > 0 || entry.waits.length > 0)
      .map((entry) => ({
        oid: entry.oid,
        relation: entry.relation,
        kind: entry.kind,
        table: entry.table,
        mode: entry.mode,
        acquiredAtMs: Math.round(((entry.holds[0] ?? entry.waits[0])?.from ?? end) - this.origin),
        heldMs: Math.round(total(entry.holds, end)),
        waitedMs: Math.round(total(entry.waits, end)),
        statement: entry.statement,
      }));
  }
}

function isOpen(intervals: Interval[]): boolean {
  const last = intervals[intervals.length - 1];
  return last !== undefined && last.to === undefined;
}

function closeOpen(intervals: Interval[], at: number): void {
  const last = intervals[intervals.length - 1];
  if (last && last.to === undefined) last.to = Math.max(at, last.from);
}

function total(intervals: Interval[], end: number): number {
  return intervals.reduce((sum, interval) => sum + ((interval.to ?? end) - interval.from), 0);
}
