// Locks sampling cannot see: a statement that holds its lock for less than one sampling interval
// (in autocommit, released before the next sample) still appears, with the lock PostgreSQL's
// documentation says it takes and the statement's own duration, marked 'documented'.
import type pg from 'pg';
import { LOCK_MODES } from '../sql/lock-conflicts.js';
import type { ParsedStatement } from '../sql/parse-sql.js';
import { documentedLocks } from '../sql/statement-locks.js';
import { regclassText, tableKeySql } from '../sql/table-key.js';
import type { TrackedLock } from './lock-tracker.js';

/** A relation named in SQL, resolved to what it is. */
export interface ResolvedRelation {
  oid: number;
  relation: string;
  kind: string;
  /** For an index: its table. */
  table: string | null;
}

/** Resolves the relations statements document locks on (before they run: a DROP removes them). */
export async function resolveDocumentedRelations(
  client: pg.Client,
  statements: readonly ParsedStatement[],
): Promise<Map<string, ResolvedRelation>> {
  const names = [...new Set(statements.flatMap((s) => documentedLocks(s).map((lock) => lock.relation)))];
  if (names.length === 0) return new Map();
  const result = await client.query<{
    wanted: string;
    oid: string;
    relation: string;
    kind: string;
    table: string | null;
  }>(
    `SELECT wanted.name AS wanted, c.oid::bigint AS oid, ${tableKeySql('n.nspname', 'c.relname')} AS relation,
            c.relkind::text AS kind,
            CASE WHEN t.oid IS NULL THEN NULL ELSE ${tableKeySql('tn.nspname', 't.relname')} END AS "table"
       FROM unnest($1::text[]) AS wanted(name)
       JOIN pg_class c ON c.oid = to_regclass(wanted.name)
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_index i ON i.indexrelid = c.oid
       LEFT JOIN pg_class t ON t.oid = i.indrelid
       LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace`,
    [names.map(regclassText)],
  );
  const byQuoted = new Map(result.rows.map((row) => [row.wanted, row]));
  const resolved = new Map<string, ResolvedRelation>();
  for (const name of names) {
    const row = byQuoted.get(regclassText(name));
    if (row)
      resolved.set(name, { oid: Number(row.oid), relation: row.relation, kind: row.kind, table: row.table });
  }
  return resolved;
}

/** When and for how long a statement held its locks, in ms from the migration's start. */
export interface StatementTiming {
  index: number;
  startMs: number;
  heldMs: number;
}

const rank = (mode: string) => LOCK_MODES.indexOf(mode as (typeof LOCK_MODES)[number]);

/**
 * The documented locks of the statements that sampling did not see (no sampled lock on that
 * relation at least as strong), as tracked locks marked 'documented'. Index locks also lock the
 * index's table for DROP INDEX (ACCESS EXCLUSIVE on both) and REINDEX INDEX (SHARE on the table).
 */
export function documentedShortLocks(
  statements: readonly ParsedStatement[],
  timings: readonly StatementTiming[],
  sampled: readonly TrackedLock[],
  resolved: ReadonlyMap<string, ResolvedRelation>,
): TrackedLock[] {
  const found: TrackedLock[] = [];
  const covered = (relation: string, mode: string) =>
    [...sampled, ...found].some((lock) => lock.relation === relation && rank(lock.mode) >= rank(mode));
  for (const timing of timings) {
    const statement = statements[timing.index];
    if (!statement) continue;
    for (const lock of documentedLocks(statement)) {
      const known = resolved.get(lock.relation);
      const relation = known?.relation ?? lock.relation;
      const entries: {
        relation: string;
        kind: string | null;
        table: string | null;
        mode: string;
        oid: number;
      }[] = [
        {
          relation,
          kind: known?.kind ?? null,
          table: known?.table ?? null,
          mode: lock.mode,
          oid: known?.oid ?? 0,
        },
      ];
      if (known?.table && statement.kind === 'DropStmt')
        entries.push({ relation: known.table, kind: 'r', table: null, mode: lock.mode, oid: 0 });
      if (known?.table && statement.kind === 'ReindexStmt' && lock.mode === 'AccessExclusiveLock')
        entries.push({ relation: known.table, kind: 'r', table: null, mode: 'ShareLock', oid: 0 });
      for (const entry of entries) {
        if (covered(entry.relation, entry.mode)) continue;
        found.push({
          oid: entry.oid,
          relation: entry.relation,
          kind: entry.kind,
          table: entry.table,
          mode: entry.mode,
          acquiredAtMs: Math.round(timing.startMs),
          heldMs: Math.round(timing.heldMs),
          waitedMs: 0,
          statement: timing.index,
          source: 'documented',
        });
      }
    }
  }
  return found;
}
