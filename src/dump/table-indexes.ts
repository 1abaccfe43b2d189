// Which post-data entries build one table's own indexes and keys: the INDEX and CONSTRAINT
// (primary key, unique, exclusion) entries whose statement names that table, read from the
// archive's post-data text and parsed by the PostgreSQL parser. The restore builds them as soon as
// the table's rows are in, while other tables are still being masked — as `pg_restore -j` does for
// a bare restore — instead of after the last row of the last table. Foreign keys, triggers, rules
// and the rest stay in the one post-data pass at the end (a foreign key needs both tables).
import { pgTool } from '../infra/pg/pg-bin.js';
import { runTool } from '../infra/process/run-tool.js';
import { loadParser, type ParsedStatement, parseStatements } from '../sql/parse-sql.js';
import { tableKey } from '../sql/table-key.js';
import type { TocEntry } from './toc.js';

/** The entry types that build an index of one table. */
const INDEX_TYPES = new Set(['INDEX', 'CONSTRAINT']);

/** `schema.table` → the entries that build its indexes and keys, in archive order. */
export type TableIndexes = Map<string, TocEntry[]>;

/** The INDEX and CONSTRAINT entries `listing` restores (entries commented out there are not). */
export function indexEntries(listing: string, entries: readonly TocEntry[]): TocEntry[] {
  const listed = new Set(listing.split('\n').map((line) => line.trimEnd()));
  return entries.filter((entry) => INDEX_TYPES.has(entry.type) && listed.has(entry.line));
}

/**
 * The index-building entries of `tables` (table keys) among `candidates`, whose `-L` list is in
 * `listFile` (indexEntries, written by the caller). Empty when the archive's
 * text does not line up with its entries as expected: the restore then builds everything in its
 * one post-data pass, as before.
 */
export async function tableIndexes(
  archive: string,
  listFile: string,
  candidates: readonly TocEntry[],
  tables: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<TableIndexes> {
  await loadParser();
  const { stdout } = await runTool({
    file: pgTool('pg_restore'),
    args: [
      '--section=post-data',
      '--no-owner',
      '--no-privileges',
      `--use-list=${listFile}`,
      '--file=-',
      archive,
    ],
    ...(signal && { signal }),
  });
  return indexesOf(stdout, candidates, tables);
}

/**
 * Pairs each entry with its statement in pg_restore's text (entries come out in list order, each
 * under a `-- Name: …; Type: …; Schema: …` header) and keeps those on `tables`. Each entry's text
 * is parsed on its own: one the parser cannot read (a newer server's syntax) is left to the
 * post-data pass, the others are still built early.
 */
export function indexesOf(
  text: string,
  candidates: readonly TocEntry[],
  tables: ReadonlySet<string>,
): TableIndexes {
  const lines = text.split('\n');
  const headers: { line: number; name: string; type: string; schema: string }[] = [];
  lines.forEach((line, index) => {
    const header = /^-- Name: (.*); Type: (.*); Schema: (.*); Owner: .*$/.exec(line);
    if (header)
      headers.push({
        line: index,
        name: header[1] as string,
        type: header[2] as string,
        schema: header[3] as string,
      });
  });
  // Out of step with the entries: nothing is built early rather than the wrong thing.
  if (headers.length !== candidates.length) return new Map();
  for (const [index, header] of headers.entries()) {
    const entry = candidates[index] as TocEntry;
    if (header.type !== entry.type || header.schema !== entry.schema) return new Map();
  }
  const result: TableIndexes = new Map();
  for (const [index, header] of headers.entries()) {
    const entry = candidates[index] as TocEntry;
    if (header.name !== entry.name) continue;
    // psql meta-commands (`\restrict …` in recent pg_dump output) are not SQL.
    const sql = lines
      .slice(header.line + 1, headers[index + 1]?.line ?? lines.length)
      .filter((line) => !line.startsWith('\\'))
      .join('\n');
    let statements: ParsedStatement[];
    try {
      statements = parseStatements(sql);
    } catch {
      continue;
    }
    const first = statements[0];
    const table = first && !callsUserFunction(statements) ? indexedTable(first) : undefined;
    if (table === undefined || !tables.has(table)) continue;
    result.set(table, [...(result.get(table) ?? []), entry]);
  }
  return result;
}

/**
 * Whether a statement calls a function outside pg_catalog (pg_dump qualifies every other one): an
 * index expression or predicate whose function reads another table must wait until that one is
 * loaded too, so such an entry stays in the post-data pass.
 */
function callsUserFunction(statements: readonly ParsedStatement[]): boolean {
  const visit = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(visit);
    if (node === null || typeof node !== 'object') return false;
    const call = (node as { FuncCall?: { funcname?: { String?: { sval?: string } }[] } }).FuncCall;
    if (call) {
      const name = call.funcname ?? [];
      if (name.length > 1 && name[0]?.String?.sval !== 'pg_catalog') return true;
    }
    return Object.values(node).some(visit);
  };
  return statements.some((statement) => visit(statement.node));
}

interface Relation {
  schemaname?: string;
  relname?: string;
  inh?: boolean;
}

/** The table a CREATE INDEX or ALTER TABLE … ADD CONSTRAINT (not a foreign key) builds on. */
function indexedTable(statement: ParsedStatement): string | undefined {
  const relation = (statement.node as { relation?: Relation }).relation;
  if (!relation?.relname) return undefined;
  if (statement.kind === 'IndexStmt') {
    // ON ONLY: a partitioned table's index, attached to its partitions' later.
    if (relation.inh !== true) return undefined;
  } else if (statement.kind === 'AlterTableStmt') {
    const commands = (statement.node as { cmds?: { AlterTableCmd?: AlterCommand }[] }).cmds ?? [];
    const keys = commands.every((command) => {
      const constraint = command.AlterTableCmd?.def?.Constraint;
      return (
        command.AlterTableCmd?.subtype === 'AT_AddConstraint' &&
        constraint !== undefined &&
        KEY_CONSTRAINTS.has(constraint.contype ?? '')
      );
    });
    if (!keys || commands.length === 0) return undefined;
  } else {
    return undefined;
  }
  return tableKey(relation.schemaname ?? 'public', relation.relname);
}

interface AlterCommand {
  subtype?: string;
  def?: { Constraint?: { contype?: string } };
}

/** Constraints that build an index on their own table and read no other. */
const KEY_CONSTRAINTS = new Set(['CONSTR_PRIMARY', 'CONSTR_UNIQUE', 'CONSTR_EXCLUSION']);
