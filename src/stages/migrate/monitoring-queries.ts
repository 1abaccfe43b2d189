// The exact SQL to watch a migration's statements in production: their progress, the locks on
// the tables they touch, and who is waiting behind whom.
import { literal } from '../../infra/pg/connection.js';
import type { ParsedStatement } from '../../sql/parse-sql.js';

/** Monitoring queries for one migration, most specific first. */
export function monitoringQueries(
  statements: readonly ParsedStatement[],
  tables: readonly string[],
): string[] {
  const queries: string[] = [];
  const kinds = new Set(statements.map((statement) => statement.kind));
  if (kinds.has('IndexStmt') || kinds.has('ReindexStmt')) {
    queries.push(
      `SELECT pid, relid::regclass AS table_name, index_relid::regclass AS index_name, phase,
       round(100.0 * blocks_done / nullif(blocks_total, 0), 1) AS blocks_pct,
       round(100.0 * tuples_done / nullif(tuples_total, 0), 1) AS tuples_pct
  FROM pg_stat_progress_create_index;`,
    );
  }
  if (kinds.has('ClusterStmt') || statements.some((s) => s.kind === 'VacuumStmt')) {
    queries.push(
      `SELECT pid, relid::regclass, command, phase, heap_blks_scanned, heap_blks_total FROM pg_stat_progress_cluster
UNION ALL
SELECT pid, relid::regclass, 'VACUUM', phase, heap_blks_scanned, heap_blks_total FROM pg_stat_progress_vacuum;`,
    );
  }
  if (kinds.has('CopyStmt'))
    queries.push(
      'SELECT pid, relid::regclass, command, bytes_processed, bytes_total, tuples_processed FROM pg_stat_progress_copy;',
    );
  for (const table of tables) {
    queries.push(
      `SELECT l.pid, l.mode, l.granted, a.application_name, a.state, now() - a.xact_start AS xact_age, left(a.query, 80) AS query
  FROM pg_locks l JOIN pg_stat_activity a USING (pid)
 WHERE l.relation = to_regclass(${literal(table)})
 ORDER BY l.granted, a.xact_start;`,
    );
  }
  queries.push(
    `SELECT pid, pg_blocking_pids(pid) AS blocked_by, wait_event_type, now() - query_start AS waiting_for, left(query, 80) AS query
  FROM pg_stat_activity
 WHERE cardinality(pg_blocking_pids(pid)) > 0
 ORDER BY query_start;`,
  );
  return queries;
}
