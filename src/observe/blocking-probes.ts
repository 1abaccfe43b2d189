// Measured blocking: while a migration runs, probe connections repeatedly do what an application
// does, with a short lock_timeout, on each relation it touches:
// - read:  SELECT 1 … LIMIT 1 (ACCESS SHARE; planning it opens every index of the table, so a
//          lock on one index — REINDEX INDEX, DROP INDEX — blocks it as it blocks the application);
// - write: DELETE … WHERE false in a transaction that is rolled back (ROW EXCLUSIVE);
// - row:   SELECT … FOR NO KEY UPDATE of a few rows spread over the table (first, middle, last
//          pages; by primary key, or ctid when there is none) in a rolled-back transaction: the
//          row lock an application UPDATE of those rows needs, so a migration holding row locks
//          (a long UPDATE, a backfill in one transaction) shows as "row updates blocked". It runs
//          at most every 200 ms (or the probe interval, if longer): row locks of a migration last long, and
//          each attempt takes a transaction id.
// An attempt that times out on a lock was blocked; back-to-back blocked attempts form one
// continuous block. While blocked, the read and write probes wait longer per attempt (up to
// BLOCKED_WAIT_MS, as an application would wait in the lock queue): the attempt that is waiting
// when the lock goes is granted at that moment, so the end of the block is as exact as before,
// and a long block costs the server a few attempts a second instead of twenty. The row probe keeps
// the short timeout: it holds the rows it has already locked while it waits for the next.
// A probe never changes data. Materialized views get the read probe only.

import type pg from 'pg';
import { literal, type PgTarget } from '../infra/pg/connection.js';
import { isLockTimeout } from '../infra/pg/pg-errors.js';
import { connect } from '../infra/pg/with-client.js';
import type { BlockingRecord } from '../record/run-record.js';

export interface ProbeOptions {
  intervalMs: number;
  lockTimeoutMs: number;
  /** Rows per table the row probe locks (0: no row probe). */
  rows: number;
}

/** A relation to probe: `schema.name`, its quoted SQL form, and what it is. */
export interface ProbeTarget {
  name: string;
  quoted: string;
  kind: 'table' | 'matview';
}

interface Span {
  from: number;
  to: number;
}

/** Blocked spans of one kind of operation on one relation. */
class BlockLog {
  readonly spans: Span[] = [];
  attempts = 0;

  constructor(private readonly mergeGapMs: number) {}

  blocked(from: number, to: number): void {
    const last = this.spans[this.spans.length - 1];
    if (last && from - last.to <= this.mergeGapMs) last.to = to;
    else this.spans.push({ from, to });
  }

  /** A slow attempt that succeeded right after a blocked one waited for the release: the block lasted until it got through. */
  succeeded(from: number, to: number, slowMs: number): void {
    const last = this.spans[this.spans.length - 1];
    if (last && from - last.to <= 5 && to - from >= slowMs) last.to = to;
  }

  totalMs(): number {
    return Math.round(this.spans.reduce((sum, span) => sum + span.to - span.from, 0));
  }

  longestMs(): number {
    return Math.round(this.spans.reduce((longest, span) => Math.max(longest, span.to - span.from), 0));
  }
}

type ProbeKind = 'read' | 'write' | 'row';

/** The row probe's pause between unblocked attempts. */
const ROW_PROBE_INTERVAL_MS = 200;

/**
 * How long a read or write attempt waits for its lock once the previous attempt was blocked: under
 * deadlock_timeout (1 s by default), so a probe in the queue never makes the server run the
 * deadlock check.
 */
const BLOCKED_WAIT_MS = 500;

interface Probe {
  target: ProbeTarget;
  kind: ProbeKind;
  client: pg.Client;
  log: BlockLog;
  /** performance.now() when the relation was first seen locked (probes started during the migration). */
  seenAt: number | undefined;
  /** The row probe's statement, once its rows are chosen. */
  rows: string | undefined;
  /** Whether the previous attempt was blocked (the next one waits longer). */
  blocked: boolean;
  error?: string;
}

/**
 * The SQL of one row-probe attempt (`key`: a quoted column, or ctid). A lock_timeout bounds how
 * long it holds the rows it already locked while it waits for another: a migration that reaches
 * one of them waits at most that long.
 */
function rowSql(target: ProbeTarget, key: string, values: readonly string[]): string {
  return `BEGIN; SELECT 1 FROM ${target.quoted} WHERE ${key} IN (${values.map(literal).join(', ')}) FOR NO KEY UPDATE; ROLLBACK`;
}

/**
 * Chooses up to `count` rows spread over the table's pages: the first row at or after the page
 * at 0, 1/(n-1), …, 1 of the heap (a TID range scan each: cheap on any size). Returns the SQL
 * of each row's attempt.
 */
async function chooseRows(client: pg.Client, target: ProbeTarget, count: number): Promise<string> {
  const key = await client.query<{ column: string | null }>(
    `SELECT (SELECT quote_ident(a.attname)
               FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              WHERE i.indrelid = $1::regclass AND i.indisprimary AND i.indnatts = 1) AS column`,
    [target.quoted],
  );
  const column = key.rows[0]?.column ?? null;
  const pages = await client.query<{ pages: string }>(
    `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::int AS pages`,
    [target.quoted],
  );
  const total = Math.max(1, Number(pages.rows[0]?.pages ?? 1));
  const at = [
    ...new Set(
      Array.from({ length: count }, (_, i) => Math.floor((i * (total - 1)) / Math.max(1, count - 1))),
    ),
  ];
  const found = await client.query<{ value: string | null }>(
    `SELECT (SELECT ${column ?? 'ctid'}::text FROM ${target.quoted} WHERE ctid >= format('(%s,0)', p)::tid LIMIT 1) AS value
       FROM unnest($1::bigint[]) AS p`,
    [at],
  );
  const values = [...new Set(found.rows.map((row) => row.value).filter((v): v is string => v !== null))];
  return values.length > 0 ? rowSql(target, column ?? 'ctid', values) : 'SELECT 1';
}

/** Running probes; add() starts probing one more relation, stop() ends them all. */
export class BlockingProbes {
  private readonly probes: Probe[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly pending: Promise<void>[] = [];
  private readonly known = new Map<string, ProbeTarget>();
  private running = true;

  private constructor(
    private readonly target: PgTarget,
    private readonly options: ProbeOptions,
    private readonly limit: number,
  ) {}

  /**
   * Connects the probes of `tables` and chooses their rows; resolves once every probe is ready,
   * so the migration can start. `limit` caps the relations probed over the whole run.
   */
  static async start(
    target: PgTarget,
    tables: readonly ProbeTarget[],
    options: ProbeOptions,
    limit = tables.length,
  ): Promise<BlockingProbes> {
    const probes = new BlockingProbes(target, options, limit);
    await Promise.all(tables.map((table) => probes.launch(table, undefined)));
    return probes;
  }

  /** Relations probed so far. */
  get tables(): string[] {
    return [...this.known.keys()];
  }

  /**
   * Starts probing a relation first seen locked at `seenAt` (performance.now()), unless it is
   * already probed or the limit is reached. Returns at once: the probes connect in the background.
   */
  add(table: ProbeTarget, seenAt: number): void {
    if (!this.running || this.known.has(table.name) || this.known.size >= this.limit) return;
    this.pending.push(this.launch(table, seenAt).catch(() => undefined));
  }

  private async launch(table: ProbeTarget, seenAt: number | undefined): Promise<void> {
    if (this.known.has(table.name) || this.known.size >= this.limit) return;
    this.known.set(table.name, table);
    const kinds: ProbeKind[] =
      table.kind === 'matview'
        ? ['read']
        : this.options.rows > 0
          ? ['read', 'write', 'row']
          : ['read', 'write'];
    const mergeGap = this.options.intervalMs + 25;
    const probes = await Promise.all(
      kinds.map(async (kind) => {
        const client = await connect(this.target, `staging-refresh:probe:${kind}`);
        client.on('error', () => undefined);
        await client.query(`SET lock_timeout = ${this.lockTimeout(false)}`);
        await client.query('SET statement_timeout = 10000');
        const probe: Probe = {
          target: table,
          kind,
          client,
          log: new BlockLog(mergeGap),
          seenAt,
          rows: undefined,
          blocked: false,
        };
        // Up front (before the migration starts) the rows are chosen now; a relation seen during
        // the migration may be locked already, so its rows are chosen by the first attempt.
        if (kind === 'row' && seenAt === undefined)
          probe.rows = await chooseRows(client, table, this.options.rows).catch(() => undefined);
        return probe;
      }),
    );
    if (!this.running) {
      await Promise.all(probes.map((probe) => probe.client.end().catch(() => undefined)));
      return;
    }
    for (const probe of probes) {
      this.probes.push(probe);
      this.loops.push(this.loop(probe));
    }
  }

  /** The lock_timeout of an attempt, in ms: longer after a blocked attempt (see BLOCKED_WAIT_MS). */
  private lockTimeout(blocked: boolean): number {
    const short = Math.max(1, Math.round(this.options.lockTimeoutMs));
    return blocked ? Math.max(short, BLOCKED_WAIT_MS) : short;
  }

  private async attempt(probe: Probe): Promise<void> {
    const { quoted } = probe.target;
    // The attempt's own lock_timeout, in the same round trip (the session's is the short one).
    const wait = `SET LOCAL lock_timeout = ${this.lockTimeout(probe.blocked)}`;
    if (probe.kind === 'read') {
      await probe.client.query(
        probe.blocked
          ? `BEGIN; ${wait}; SELECT 1 FROM ${quoted} LIMIT 1; COMMIT`
          : `SELECT 1 FROM ${quoted} LIMIT 1`,
      );
      return;
    }
    if (probe.kind === 'write') {
      await probe.client.query(`BEGIN; ${wait}; DELETE FROM ${quoted} WHERE false; ROLLBACK`);
      return;
    }
    probe.rows ??= await chooseRows(probe.client, probe.target, this.options.rows);
    await probe.client.query(probe.rows);
  }

  private async loop(probe: Probe): Promise<void> {
    const slowMs = Math.max(2, this.options.lockTimeoutMs / 10);
    while (this.running) {
      const started = performance.now();
      probe.log.attempts++;
      try {
        await this.attempt(probe);
        probe.log.succeeded(started, performance.now(), slowMs);
        probe.blocked = false;
      } catch (error) {
        if (probe.kind !== 'read' || probe.blocked)
          await probe.client.query('ROLLBACK').catch(() => undefined);
        if (isLockTimeout(error)) {
          probe.blocked = probe.kind !== 'row';
          // The first attempt of a probe started late was blocked: the relation was locked when
          // it was first seen, so the block began no later than that.
          const from = probe.log.attempts === 1 && probe.seenAt !== undefined ? probe.seenAt : started;
          probe.log.blocked(from, performance.now());
          continue; // blocked: try again at once, so a block is measured without gaps
        }
        // The relation went away or cannot be probed: stop this probe. An attempt that waited
        // in the queue until then (a DROP TABLE granted it "does not exist") ends the block.
        probe.log.succeeded(started, performance.now(), slowMs);
        probe.error = (error as Error).message;
        return;
      }
      const pause =
        probe.kind === 'row'
          ? Math.max(this.options.intervalMs, ROW_PROBE_INTERVAL_MS)
          : this.options.intervalMs;
      if (this.running) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** Ends every probe and returns what each relation's probes measured. */
  async stop(): Promise<BlockingRecord[]> {
    this.running = false;
    await Promise.all(this.pending);
    await Promise.all(this.loops);
    await Promise.all(this.probes.map((probe) => probe.client.end().catch(() => undefined)));
    return [...this.known.values()]
      .filter((table) => this.probes.some((probe) => probe.target === table))
      .map((table) => {
        const of = (kind: ProbeKind) =>
          this.probes.find((probe) => probe.target === table && probe.kind === kind);
        const read = of('read');
        const write = of('write');
        const row = of('row');
        return {
          relation: table.name,
          readsBlockedMs: read?.log.totalMs() ?? 0,
          writesBlockedMs: write?.log.totalMs() ?? 0,
          longestWriteBlockMs: write?.log.longestMs() ?? 0,
          longestReadBlockMs: read?.log.longestMs() ?? 0,
          ...(row && {
            rowUpdatesBlockedMs: row.log.totalMs(),
            longestRowUpdateBlockMs: row.log.longestMs(),
          }),
          probes: {
            reads: read?.log.attempts ?? 0,
            writes: write?.log.attempts ?? 0,
            ...(row && { rows: row.log.attempts }),
          },
          ...(table.kind === 'matview' && { kind: 'matview' as const }),
        };
      });
  }
}

/** Starts probes on `tables` (compatibility entry point: a fixed set, probed from the start). */
export async function startProbes(
  target: PgTarget,
  tables: readonly ProbeTarget[],
  options: ProbeOptions,
): Promise<BlockingProbes> {
  return BlockingProbes.start(target, tables, options);
}

/** What stop() returns. */
export type RunningProbes = BlockingProbes;
