// For migrations run by another tool's CLI: every backend connected to the new database (other
// than ours) is sampled — what it is running (pg_stat_activity) and which locks it holds.
import type pg from 'pg';
import type { LockTracker, ObservedLock } from './lock-tracker.js';
import { observerQuery, pollEvery, snapshotLocks } from './sampler.js';

/** A statement seen running, from its first to its last sample. */
export interface SeenStatement {
  pid: number;
  sql: string;
  startedAt: number;
  lastSeenAt: number;
}

const ACTIVITY_SQL = `
  SELECT pid, query, state FROM pg_stat_activity
   WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
     AND coalesce(application_name, '') NOT LIKE 'staging-refresh:%'`;

/** Samples until stop(); returns the statements seen, in the order they started. */
export function startActivitySampler(
  client: pg.Client,
  intervalMs: number,
  locks: LockTracker,
  /** Called with every lock sample (e.g. to start probes on a relation as soon as it is locked). */
  onLocks?: (observed: readonly ObservedLock[], at: number) => void,
): { stop: () => Promise<SeenStatement[]> } {
  const seen: SeenStatement[] = [];
  const open = new Map<string, SeenStatement>();
  const poll = pollEvery(intervalMs, async (started) => {
    const activity = await client.query<{ pid: number; query: string; state: string }>(
      observerQuery('activity', ACTIVITY_SQL, [], true),
    );
    const active = activity.rows.filter((row) => row.state === 'active');
    const keys = new Set(active.map((row) => `${row.pid}\u0000${row.query}`));
    for (const row of active) {
      const key = `${row.pid}\u0000${row.query}`;
      const current = open.get(key);
      if (current) current.lastSeenAt = started;
      else {
        const statement = { pid: row.pid, sql: row.query, startedAt: started, lastSeenAt: started };
        open.set(key, statement);
        seen.push(statement);
      }
    }
    for (const key of open.keys()) if (!keys.has(key)) open.delete(key);
    const pids = activity.rows.map((row) => row.pid);
    const observed = pids.length ? await snapshotLocks(client, pids, true) : [];
    locks.observe(observed, started, started - intervalMs, 0);
    onLocks?.(observed, started);
  });
  return {
    stop: async () => {
      await poll.stop();
      return seen;
    },
  };
}
