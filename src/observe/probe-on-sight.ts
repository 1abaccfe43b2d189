// Probes started as soon as a relation is seen locked: for migrations whose statements are not
// known in advance (a `command` tool, node-pg-migrate, functions and DO blocks), every lock
// sample names the relations the migration touches; each one that existed before the migration
// (not the tool's bookkeeping table) gets probes from that moment on.
import type pg from 'pg';
import { qualifiedName } from '../infra/pg/connection.js';
import { splitTableKey } from '../sql/table-key.js';
import type { BlockingProbes, ProbeTarget } from './blocking-probes.js';
import { isBookkeepingTable } from './bookkeeping-tables.js';
import type { ObservedLock } from './lock-tracker.js';

/** Oids of the relations in user schemas right now (taken before the migration starts). */
export async function existingRelations(client: pg.Client): Promise<Set<number>> {
  const result = await client.query<{ oid: string }>(
    `SELECT c.oid::bigint AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm', 'i', 'I')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  return new Set(result.rows.map((row) => Number(row.oid)));
}

/** `schema.name` as printed by the lock query, quoted for SQL. */
function quoted(name: string): string {
  const { schema, table } = splitTableKey(name);
  return qualifiedName(schema, table);
}

/** What to probe for a locked relation: a table or matview itself, an index's table; else nothing. */
export function probeTargetOf(lock: ObservedLock): ProbeTarget | undefined {
  if (lock.relation === null) return undefined;
  if (lock.kind === 'r' || lock.kind === 'p')
    return { name: lock.relation, quoted: quoted(lock.relation), kind: 'table' };
  if (lock.kind === 'm') return { name: lock.relation, quoted: quoted(lock.relation), kind: 'matview' };
  if ((lock.kind === 'i' || lock.kind === 'I') && lock.table)
    return { name: lock.table, quoted: quoted(lock.table), kind: 'table' };
  return undefined;
}

/** Returns the callback for lock samples that starts probes on relations as they are seen. */
export function probeOnSight(
  probes: BlockingProbes,
  existing: ReadonlySet<number>,
  historyTables: readonly string[] = [],
): (observed: readonly ObservedLock[], at: number) => void {
  return (observed, at) => {
    for (const lock of observed) {
      if (!existing.has(lock.oid)) continue; // created by this migration: nobody else uses it yet
      const target = probeTargetOf(lock);
      if (target && !isBookkeepingTable(target.name, historyTables)) probes.add(target, at);
    }
  };
}
