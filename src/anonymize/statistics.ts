// Optimizer statistics in a backup. pg_dump 18 with --statistics (not its default) writes each
// table's, index's and column's statistics as STATISTICS DATA entries — in a plain dump, as
// `SELECT * FROM pg_catalog.pg_restore_relation_stats(…)` and `…pg_restore_attribute_stats(…)`
// statements. A column's most common values and histogram bounds are production's own values, a
// masked column's too (pg_dump 18.6 of a users table: its e-mail addresses, as they are, in the
// data section's `histogram_bounds`). So they are never restored, as `pg_restore --no-statistics`
// would leave them out: the ANALYZE after the restore computes staging's from its own rows.
// Restored into a server before 18, which has no such functions, they would also fail the restore.
import type { ParsedStatement } from '../sql/parse-sql.js';

/** A TOC entry holding statistics (pg_restore --list prints `STATISTICS DATA`). */
export function isStatisticsEntry(entry: { type: string }): boolean {
  return entry.type === 'STATISTICS DATA';
}

const FUNCTIONS = new Map<string, 'relation' | 'attribute'>([
  ['pg_restore_relation_stats', 'relation'],
  ['pg_restore_attribute_stats', 'attribute'],
]);

interface FuncCallNode {
  FuncCall?: { funcname?: { String?: { sval?: string } }[] };
}

/**
 * Which statistics a plain dump's statement restores: a relation's (each STATISTICS DATA entry
 * begins with one such call), a column's, or none.
 */
export function statisticsCall(statement: ParsedStatement): 'relation' | 'attribute' | undefined {
  if (statement.kind !== 'SelectStmt') return undefined;
  const node = statement.node as {
    fromClause?: { RangeFunction?: { functions?: { List?: { items?: FuncCallNode[] } }[] } }[];
    targetList?: { ResTarget?: { val?: FuncCallNode } }[];
  };
  // `SELECT * FROM pg_catalog.f(…)`, as pg_dump writes it, or `SELECT pg_catalog.f(…)`.
  const calls = [
    ...(node.fromClause ?? []).flatMap((item) =>
      (item.RangeFunction?.functions ?? []).flatMap((list) => list.List?.items ?? []),
    ),
    ...(node.targetList ?? []).map((target) => target.ResTarget?.val),
  ];
  for (const call of calls) {
    const name = call?.FuncCall?.funcname?.at(-1)?.String?.sval;
    const kind = name === undefined ? undefined : FUNCTIONS.get(name);
    if (kind) return kind;
  }
  return undefined;
}
