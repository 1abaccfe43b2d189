// Relations a migration creates itself (tables, materialized views, views, indexes): nobody else
// uses them while it runs, so their locks block nothing that matters.
import type { ParsedStatement } from './parse-sql.js';
import { relationName } from './table-key.js';

interface RangeVar {
  schemaname?: string;
  relname: string;
}

/** Names (bare, and qualified when written so) of the relations the statements create. */
export function createdRelations(statements: readonly ParsedStatement[]): string[] {
  const names = new Set<string>();
  const add = (rangeVar: RangeVar | undefined) => {
    if (!rangeVar?.relname) return;
    names.add(relationName(undefined, rangeVar.relname));
    if (rangeVar.schemaname) names.add(relationName(rangeVar.schemaname, rangeVar.relname));
  };
  for (const statement of statements) {
    const node = statement.node as {
      relation?: RangeVar;
      into?: { rel?: RangeVar };
      view?: RangeVar;
      idxname?: string;
    };
    if (statement.kind === 'CreateStmt') add(node.relation);
    else if (statement.kind === 'CreateTableAsStmt') add(node.into?.rel);
    else if (statement.kind === 'ViewStmt') add(node.view);
    else if (statement.kind === 'IndexStmt' && node.idxname) {
      const schema = node.relation?.schemaname;
      add({ relname: node.idxname, ...(schema && { schemaname: schema }) });
    }
  }
  return [...names];
}
