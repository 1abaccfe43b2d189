// Which existing tables a migration touches (from its parse trees) and how big they are.
import type pg from 'pg';
import { qualifiedName } from '../../infra/pg/connection.js';
import type { RelationSizeRecord } from '../../record/run-record.js';
import { type ParsedStatement, relationsIn } from '../../sql/parse-sql.js';

/** Existing ordinary/partitioned tables named by the statements, resolved with the search_path. */
export async function tablesToProbe(
  client: pg.Client,
  statements: readonly ParsedStatement[],
  limit: number,
): Promise<{ name: string; quoted: string }[]> {
  const names = [...new Set(statements.flatMap((statement) => relationsIn(statement.node)))];
  if (names.length === 0 || limit === 0) return [];
  const result = await client.query<{ schema: string; name: string }>(
    `SELECT DISTINCT n.nspname AS schema, c.relname AS name
       FROM unnest($1::text[]) AS wanted(name)
       JOIN pg_class c ON c.oid = to_regclass(wanted.name)
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')`,
    [names.map(quoteForRegclass)],
  );
  return result.rows
    .slice(0, limit)
    .map((row) => ({ name: `${row.schema}.${row.name}`, quoted: qualifiedName(row.schema, row.name) }));
}

/** Parser names are unquoted identifiers: quote each part so to_regclass keeps their case. */
function quoteForRegclass(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

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
