// For migrations run by another tool's CLI: every backend connected to the new database (other
// than ours) is sampled — what it is running (pg_stat_activity) and which locks it holds.
import type pg from 'pg';
import type { LockTracker } from './lock-tracker.js';

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

const LOCKS_SQL = `
  SELECT l.relation::bigint AS oid, l.mode, l.granted,
         CASE WHEN c.oid IS NULL THEN NULL ELSE n.nspname || '.' || c.relname END AS relation, c.relkind::text AS kind
    FROM pg_locks l
    LEFT JOIN pg_class c ON c.oid = l.relation
    LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE l.pid = ANY($1) AND l.locktype = 'relation'
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND (n.nspname IS NULL OR (n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'))`;

/** Samples until stop(); returns the statements seen, in the order they started. */
export function startActivitySampler(
  client: pg.Client,
  intervalMs: number,
  locks: LockTracker,
): { stop: () => Promise<SeenStatement[]> } {
  let running = true;
  const seen: SeenStatement[] = [];
  const open = new Map<string, SeenStatement>();
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const activity = await client.query<{ pid: number; query: string; state: string }>(ACTIVITY_SQL);
        const active = activity.rows.filter(
          (row) => row.state === 'active' || row.state === 'idle in transaction',
        );
        for (const row of active.filter((r) => r.state === 'active')) {
          const key = `${row.pid}\u0000${row.query}`;
          const current = open.get(key);
          if (current) current.lastSeenAt = started;
          else {
            const statement = { pid: row.pid, sql: row.query, startedAt: started, lastSeenAt: started };
            open.set(key, statement);
            seen.push(statement);
          }
        }
        for (const key of open.keys()) {
          if (!active.some((row) => `${row.pid}\u0000${row.query}` === key && row.state === 'active'))
            open.delete(key);
        }
        const pids = activity.rows.map((row) => row.pid);
        const rows = pids.length
          ? (
              await client.query<{
                oid: string;
                mode: string;
                granted: boolean;
                relation: string | null;
                kind: string | null;
              }>(LOCKS_SQL, [pids])
            ).rows
          : [];
        locks.observe(
          rows.map((row) => ({
            oid: Number(row.oid),
            mode: row.mode,
            granted: row.granted,
            relation: row.relation,
            kind: row.kind,
          })),
          started,
          started - intervalMs,
          0,
        );
      } catch {
        // an observer error never fails the migration
      }
      const wait = intervalMs - (performance.now() - started);
      if (running && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}
