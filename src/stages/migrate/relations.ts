// Which existing tables a migration touches (from its parse trees) and how big they are.
import type pg from 'pg';
import { qualifiedName } from '../../infra/pg/connection.js';
import type { ProbeTarget } from '../../observe/blocking-probes.js';
import { isBookkeepingTable } from '../../observe/bookkeeping-tables.js';
import type { RelationSizeRecord } from '../../record/run-record.js';
import { type ParsedStatement, relationsIn } from '../../sql/parse-sql.js';
import { documentedLocks } from '../../sql/statement-locks.js';
import { regclassText, tableKey } from '../../sql/table-key.js';

/**
 * Existing relations the statements touch, resolved with the search_path, as probe targets:
 * tables and partitioned tables (a partition being attached too), materialized views, and for
 * an index (DROP INDEX, REINDEX INDEX) the table it belongs to.
 */
export async function tablesToProbe(
  client: pg.Client,
  statements: readonly ParsedStatement[],
  limit: number,
  historyTables: readonly string[] = [],
): Promise<ProbeTarget[]> {
  const names = [
    ...new Set(
      statements.flatMap((statement) => [
        ...relationsIn(statement.node),
        ...documentedLocks(statement).map((lock) => lock.relation),
      ]),
    ),
  ];
  if (names.length === 0 || limit === 0) return [];
  const result = await client.query<{ schema: string; name: string; kind: string }>(
    `SELECT DISTINCT ON (n.nspname, t.relname) n.nspname AS schema, t.relname AS name,
            CASE WHEN t.relkind = 'm' THEN 'matview' ELSE 'table' END AS kind
       FROM unnest($1::text[]) WITH ORDINALITY AS wanted(name, position)
       JOIN pg_class c ON c.oid = to_regclass(wanted.name)
       LEFT JOIN pg_index i ON i.indexrelid = c.oid
       JOIN pg_class t ON t.oid = coalesce(i.indrelid, c.oid)
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE t.relkind IN ('r', 'p', 'm')
      ORDER BY n.nspname, t.relname, wanted.position`,
    [names.map(quoteForRegclass)],
  );
  return result.rows
    .map((row) => ({
      name: tableKey(row.schema, row.name),
      quoted: qualifiedName(row.schema, row.name),
      kind: row.kind as ProbeTarget['kind'],
    }))
    .filter((target) => !isBookkeepingTable(target.name, historyTables))
    .slice(0, limit);
}

/** Parser names are unquoted identifiers: quote each part so to_regclass keeps their case. */
const quoteForRegclass = regclassText;

/** Rows (estimate) and bytes of each relation; with `before`, a before/after record. */
export async function relationSizes(
  client: pg.Client,
  relations: readonly string[],
  before?: RelationSizeRecord[],
): Promise<RelationSizeRecord[]> {
  if (relations.length === 0) return [];
  const result = await client.query<{ relation: string; rows: string | null; bytes: string | null }>(
    `SELECT wanted.name AS relation,
            CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS rows,
            pg_total_relation_size(c.oid) AS bytes
       FROM unnest($1::text[]) AS wanted(name)
       LEFT JOIN pg_class c ON c.oid = to_regclass(wanted.name)`,
    [relations.map(quoteForRegclass)],
  );
  return result.rows.map((row, index) => {
    const now = {
      rows: row.rows === null ? null : Number(row.rows),
      bytes: row.bytes === null ? null : Number(row.bytes),
    };
    const earlier = before?.[index];
    return {
      relation: relations[index] ?? row.relation,
      rowsBefore: earlier ? earlier.rowsAfter : now.rows,
      rowsAfter: now.rows,
      bytesBefore: earlier ? earlier.bytesAfter : now.bytes,
      bytesAfter: now.bytes,
    };
  });
}
