// Lint that knows the data: on staging the restored database says what a statement will really
// do — the old type of a column being changed (varchar widening needs no rewrite), whether a
// partition being attached already has a validated CHECK, which table an index belongs to.
import type pg from 'pg';
import type { ParsedStatement } from '../../../sql/parse-sql.js';
import { regclassText, tableKeySql } from '../../../sql/table-key.js';
import { alterCommands, type RangeVarNode, rangeVarName } from './ast.js';
import type { LintFacts } from './lint-types.js';

const quoteParts = regclassText;

/** Reads the facts the rules need for these statements from the database `client` is on. */
export async function lintFacts(
  client: pg.Client,
  statements: readonly ParsedStatement[],
): Promise<LintFacts> {
  const columns: { table: string; column: string }[] = [];
  const partitions: string[] = [];
  const indexes: string[] = [];
  for (const statement of statements) {
    if (statement.kind === 'AlterTableStmt') {
      const table = rangeVarName((statement.node as { relation?: RangeVarNode }).relation);
      for (const cmd of alterCommands(statement.node)) {
        if (cmd.subtype === 'AT_AlterColumnType' && typeof cmd.name === 'string')
          columns.push({ table, column: cmd.name });
        const child = (cmd.def as { PartitionCmd?: { name?: RangeVarNode } } | undefined)?.PartitionCmd?.name;
        if (cmd.subtype === 'AT_AttachPartition' && child) partitions.push(rangeVarName(child));
      }
    }
    const node = statement.node as {
      removeType?: string;
      objects?: { List?: { items?: { String?: { sval?: string } }[] } }[];
    };
    if (statement.kind === 'DropStmt' && node.removeType === 'OBJECT_INDEX')
      for (const object of node.objects ?? [])
        indexes.push((object.List?.items ?? []).map((item) => item.String?.sval ?? '').join('.'));
  }
  const columnTypes = new Map<string, string>();
  if (columns.length > 0) {
    const result = await client.query<{ table: string; column: string; type: string | null }>(
      `SELECT w.tbl AS table, w.col AS column, format_type(a.atttypid, a.atttypmod) AS type
         FROM unnest($1::text[], $2::text[], $3::text[]) AS w(tbl, quoted, col)
         LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(w.quoted) AND a.attname = w.col AND NOT a.attisdropped`,
      [columns.map((c) => c.table), columns.map((c) => quoteParts(c.table)), columns.map((c) => c.column)],
    );
    for (const row of result.rows) if (row.type) columnTypes.set(`${row.table}.${row.column}`, row.type);
  }
  const validatedChecks = new Set<string>();
  if (partitions.length > 0) {
    const result = await client.query<{ table: string }>(
      `SELECT w.tbl AS table FROM unnest($1::text[], $2::text[]) AS w(tbl, quoted)
        WHERE EXISTS (SELECT 1 FROM pg_constraint
                       WHERE conrelid = to_regclass(w.quoted) AND contype = 'c' AND convalidated)`,
      [partitions, partitions.map(quoteParts)],
    );
    for (const row of result.rows) validatedChecks.add(row.table);
  }
  const indexTables = new Map<string, string>();
  if (indexes.length > 0) {
    const result = await client.query<{ index: string; table: string }>(
      `SELECT w.idx AS index, ${tableKeySql('n.nspname', 't.relname')} AS table
         FROM unnest($1::text[], $2::text[]) AS w(idx, quoted)
         JOIN pg_index i ON i.indexrelid = to_regclass(w.quoted)
         JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace`,
      [indexes, indexes.map(quoteParts)],
    );
    for (const row of result.rows) indexTables.set(row.index, row.table);
  }
  return { columnTypes, validatedChecks, indexTables };
}
