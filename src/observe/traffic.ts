// Synthetic traffic during a migration: what production's application would do to the tables
// the migration touches, and what it would suffer. Open-loop reads and writes at a steady rate
// on a bounded pool of connections (the application's pool), plus one read transaction opened
// before the migration and held a while (a report, a slow request). A sampler asks pg_locks and
// pg_blocking_pids how long the migration waited for its lock and behind whom, and which
// operations queued behind it. A "write" is DELETE … WHERE false in a transaction that is rolled
// back: it takes a write's lock (ROW EXCLUSIVE) and changes nothing — not even through a
// statement trigger — so the staging data stay as restored.

import type pg from 'pg';
import type { PgTarget } from '../infra/pg/connection.js';
import { connect } from '../infra/pg/with-client.js';
import type { TrafficRecord } from '../record/run-record.js';

export interface TrafficOptions {
  /** Per second, per table. */
  reads: number;
  writes: number;
  /** Pool size: an operation due while every connection is busy finds none. */
  connections: number;
  /** How long the read transaction opened before the migration is held (0: none). */
  longTransactionMs: number;
  /** pg_locks sampling interval. */
  sampleIntervalMs?: number;
}

/** What the traffic measured; lockTimeout is judged by the caller, who knows the application's value. */
export type TrafficMeasurement = Omit<TrafficRecord, 'lockTimeout'> & {
  /** The longest single wait for a lock: what a lock_timeout is compared with. */
  longestLockWaitMs: number;
};

/** Running traffic; stop() ends it and returns what it saw. */
export interface RunningTraffic {
  stop(): Promise<TrafficMeasurement>;
}

type Kind = 'reads' | 'writes';

interface PooledConnection {
  client: pg.Client;
  pid: number;
  busy: boolean;
  op: number;
  kind: Kind;
}

/**
 * Opens the pool, the long transaction and the sampler, then starts the load. `migrationPid` is
 * the backend the migration runs on. Resolves when everything is connected and the long
 * transaction holds its locks, so the migration can start behind it.
 */
export async function startTraffic(
  target: PgTarget,
  tables: readonly { name: string; quoted: string }[],
  migrationPid: number,
  options: TrafficOptions,
): Promise<RunningTraffic> {
  const sampleMs = options.sampleIntervalMs ?? 25;
  const opened: pg.Client[] = [];
  const open = async (name: string) => {
    const client = await connect(target, `staging-refresh:traffic:${name}`);
    opened.push(client);
    const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
    return { client, pid };
  };
  try {
    const pool: PooledConnection[] = await Promise.all(
      Array.from({ length: options.connections }, async () => ({
        ...(await open('app')),
        busy: false,
        op: 0,
        kind: 'reads' as Kind,
      })),
    );
    const sampler = await open('sampler');
    const long = options.longTransactionMs > 0 && tables.length > 0 ? await open('long-read') : undefined;
    if (long) {
      await long.client.query('BEGIN');
      for (const table of tables) await long.client.query(`SELECT 1 FROM ${table.quoted} LIMIT 1`);
    }
    return run(tables, migrationPid, options, sampleMs, pool, sampler, long, opened);
  } catch (error) {
    await Promise.all(opened.map((client) => client.end().catch(() => undefined)));
    throw error;
  }
}

function run(
  tables: readonly { name: string; quoted: string }[],
  migrationPid: number,
  options: TrafficOptions,
  sampleMs: number,
  pool: PooledConnection[],
  sampler: { client: pg.Client; pid: number },
  long: { client: pg.Client; pid: number } | undefined,
  opened: pg.Client[],
): RunningTraffic {
  const started = performance.now();
  const completed = { reads: 0, writes: 0 };
  const worst = { reads: 0, writes: 0 };
  const queued = { reads: 0, writes: 0 };
  const peak = { reads: 0, writes: 0 };
  const countedOps = new Set<string>();
  let noConnection = 0;
  let running = true;
  const inFlight = new Set<Promise<void>>();

  let longHeldMs = 0;
  let longOpen = long !== undefined;
  const endLong = async () => {
    if (!long || !longOpen) return;
    longOpen = false;
    longHeldMs = performance.now() - started;
    await long.client.query('COMMIT').catch(() => undefined);
  };
  const longTimer = long ? setTimeout(() => void endLong(), options.longTransactionMs) : undefined;

  const operate = (table: { quoted: string }, kind: Kind) => {
    const connection = pool.find((candidate) => !candidate.busy);
    if (!connection) {
      noConnection++;
      return;
    }
    connection.busy = true;
    connection.op++;
    connection.kind = kind;
    const sql =
      kind === 'reads'
        ? `SELECT 1 FROM ${table.quoted} LIMIT 1`
        : `BEGIN; DELETE FROM ${table.quoted} WHERE false; ROLLBACK`;
    const begun = performance.now();
    const done = connection.client
      .query(sql)
      .then(() => {
        completed[kind]++;
      })
      // The table went away mid-migration, or stop() cancelled it: leave no transaction open.
      .catch(async () => {
        await connection.client.query('ROLLBACK').catch(() => undefined);
      })
      .finally(() => {
        worst[kind] = Math.max(worst[kind], performance.now() - begun);
        connection.busy = false;
        inFlight.delete(done);
      });
    inFlight.add(done);
  };
  const timers = tables.flatMap((table) =>
    (['reads', 'writes'] as const)
      .filter((kind) => options[kind] > 0)
      .map((kind) => setInterval(() => running && operate(table, kind), 1000 / options[kind])),
  );

  // Lock waits of the migration (continuous spans) and who queued behind it.
  const waits: { from: number; to: number }[] = [];
  let behindLong = false;
  const byPid = new Map(pool.map((connection) => [connection.pid, connection]));
  const sampling = (async () => {
    while (running) {
      const at = performance.now();
      const result = await sampler.client
        .query<{ waiting: boolean; blockers: number[]; queued: number[] }>(
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted) AS waiting,
                  CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)
                       THEN pg_blocking_pids($1) ELSE '{}'::int[] END AS blockers,
                  ARRAY(SELECT w.pid FROM (SELECT DISTINCT pid FROM pg_locks WHERE NOT granted AND pid = ANY($2::int[])) w
                         WHERE $1 = ANY(pg_blocking_pids(w.pid)))::int[] AS queued`,
          [migrationPid, [...byPid.keys()]],
        )
        .catch(() => undefined);
      const row = result?.rows[0];
      if (row) {
        if (row.waiting) {
          const last = waits.at(-1);
          if (last && at - last.to <= 2.5 * sampleMs) last.to = at;
          else waits.push({ from: at, to: at + 1 });
          if (long && row.blockers.includes(long.pid)) behindLong = true;
        }
        const now = { reads: 0, writes: 0 };
        for (const pid of row.queued) {
          const connection = byPid.get(pid);
          if (!connection) continue;
          now[connection.kind]++;
          const key = `${pid}:${connection.op}`;
          if (!countedOps.has(key)) {
            countedOps.add(key);
            queued[connection.kind]++;
          }
        }
        peak.reads = Math.max(peak.reads, now.reads);
        peak.writes = Math.max(peak.writes, now.writes);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, sampleMs - (performance.now() - at))));
    }
  })();

  return {
    async stop() {
      running = false;
      for (const timer of timers) clearInterval(timer);
      if (longTimer) clearTimeout(longTimer);
      await sampling;
      await endLong();
      // What is still queued gets through now that the migration is done; cancel stragglers.
      const settled = Promise.all(inFlight);
      const timeout = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 10_000).unref());
      if ((await Promise.race([settled, timeout])) === 'late') {
        for (const connection of pool.filter((candidate) => candidate.busy))
          await sampler.client.query('SELECT pg_cancel_backend($1)', [connection.pid]).catch(() => undefined);
        await settled;
      }
      await Promise.all(opened.map((client) => client.end().catch(() => undefined)));
      const round = (ms: number) => Math.round(ms);
      return {
        tables: tables.map((table) => table.name),
        ratePerSecond: { reads: options.reads, writes: options.writes },
        longTransactionMs: round(longHeldMs),
        lockWaitMs: round(waits.reduce((sum, span) => sum + span.to - span.from, 0)),
        longestLockWaitMs: round(waits.reduce((most, span) => Math.max(most, span.to - span.from), 0)),
        waitedBehindLongTransaction: behindLong,
        queued,
        peakQueued: peak,
        noConnection,
        completed,
        worstLatencyMs: { reads: round(worst.reads), writes: round(worst.writes) },
      };
    },
  };
}
