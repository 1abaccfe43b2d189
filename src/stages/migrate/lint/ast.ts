// Small readers for the parser's JSON, so rules read like the SQL they look for.
import type { PgNode } from '../../../sql/parse-sql.js';
import { relationName } from '../../../sql/table-key.js';

export interface RangeVarNode {
  schemaname?: string;
  relname: string;
}

/** `schema.table` or `table`. */
export function rangeVarName(rangeVar: RangeVarNode | undefined): string {
  if (!rangeVar) return '?';
  return relationName(rangeVar.schemaname, rangeVar.relname);
}

/** The AlterTableCmd nodes of an AlterTableStmt. */
export function alterCommands(node: PgNode): PgNode[] {
  const cmds = (node.cmds as { AlterTableCmd?: PgNode }[] | undefined) ?? [];
  return cmds.map((cmd) => cmd.AlterTableCmd).filter((cmd): cmd is PgNode => cmd !== undefined);
}

/** The Constraint nodes in a list (column constraints or a table constraint). */
export function constraints(list: unknown): PgNode[] {
  if (!Array.isArray(list)) return [];
  return list
    .map((item) => (item as { Constraint?: PgNode }).Constraint)
    .filter((c): c is PgNode => c !== undefined);
}

/** Every function name called anywhere under a node, lower-case, without schema. */
export function calledFunctions(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) calledFunctions(item, found);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'FuncCall') {
        const names = ((value as { funcname?: { String?: { sval?: string } }[] }).funcname ?? []).map(
          (part) => part.String?.sval ?? '',
        );
        found.push((names[names.length - 1] ?? '').toLowerCase());
      }
      calledFunctions(value, found);
    }
  }
  return found;
}

/** Type name of a ColumnDef/TypeName, e.g. "int4", "varchar", "text". */
export function typeName(typeNode: unknown): string {
  const names = ((typeNode as { names?: { String?: { sval?: string } }[] } | undefined)?.names ?? []).map(
    (part) => part.String?.sval ?? '',
  );
  return names[names.length - 1] ?? '';
}
