// A plain dump runs through psql statement by statement, so it cannot be filtered by TOC entry:
// an event trigger is disabled in the same breath as it is created, before any later statement
// of the dump (REFRESH MATERIALIZED VIEW, say) could fire it. The SQL pass lists it afterwards.
import { ident } from '../infra/pg/connection.js';
import type { ParsedStatement } from '../sql/parse-sql.js';
import { tableKey } from '../sql/table-key.js';

/** The SQL to send instead of `statement` when it could reach out of staging; undefined otherwise. */
export function plainOutboundStatement(statement: ParsedStatement): string | undefined {
  if (statement.kind === 'CreateEventTrigStmt') {
    const name = (statement.node as { trigname?: string }).trigname ?? '';
    return `${statement.sql};\nALTER EVENT TRIGGER ${ident(name)} DISABLE;\n`;
  }
  // pg_dump's "ALTER EVENT TRIGGER … ENABLE REPLICA|ALWAYS" after the CREATE would enable it again.
  if (statement.kind === 'AlterEventTrigStmt') return '';
  return undefined;
}

interface RangeVarNode {
  schemaname?: string;
  relname?: string;
}

/** A `CREATE MATERIALIZED VIEW` that calls dblink: its name (a REFRESH of it must not run). */
export function dblinkMatview(statement: ParsedStatement): string | undefined {
  if (statement.kind !== 'CreateTableAsStmt') return undefined;
  const node = statement.node as { objtype?: string; into?: { rel?: RangeVarNode } };
  if (node.objtype !== 'OBJECT_MATVIEW' || !/\bdblink\w*\s*\(/i.test(statement.sql)) return undefined;
  return matviewName(node.into?.rel);
}

/** The materialized view a `REFRESH MATERIALIZED VIEW` populates. */
export function refreshedMatview(statement: ParsedStatement): string | undefined {
  if (statement.kind !== 'RefreshMatViewStmt') return undefined;
  return matviewName((statement.node as { relation?: RangeVarNode }).relation);
}

function matviewName(rel: RangeVarNode | undefined): string | undefined {
  return rel?.relname ? tableKey(rel.schemaname ?? 'public', rel.relname) : undefined;
}
