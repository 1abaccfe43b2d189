// A plain dump runs through psql statement by statement, so it cannot be filtered by TOC entry:
// an event trigger is disabled in the same breath as it is created, before any later statement
// of the dump (REFRESH MATERIALIZED VIEW, say) could fire it. The SQL pass lists it afterwards.
import { ident } from '../infra/pg/connection.js';
import type { ParsedStatement } from '../sql/parse-sql.js';

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
