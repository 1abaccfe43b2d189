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
 * `listFile` (indexEntries, written by the caller into its work dir). Empty when the archive's
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
  if (candidates.length === 0 || tables.size === 0) return new Map();
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
 * under a `-- Name: …; Type: …; Schema: …` header) and keeps those on `tables`.
 */
export function indexesOf(
  text: string,
  candidates: readonly TocEntry[],
  tables: ReadonlySet<string>,
): TableIndexes {
  const lines = text.split('\n');
  const headers: { line: number; type: string; schema: string }[] = [];
  lines.forEach((line, index) => {
    const header = /^-- Name: .*; Type: (.*); Schema: (.*); Owner: .*$/.exec(line);
    if (header) headers.push({ line: index + 1, type: header[1] as string, schema: header[2] as string });
  });
  if (headers.length !== candidates.length) return new Map();
  for (const [index, header] of headers.entries()) {
    const entry = candidates[index] as TocEntry;
    if (header.type !== entry.type || header.schema !== entry.schema) return new Map();
  }
  let statements: ParsedStatement[];
  try {
    // psql meta-commands (`\restrict …` in recent pg_dump output) are not SQL.
    statements = parseStatements(text.replace(/^\\.*$/gm, ''));
  } catch {
    return new Map();
  }
  const result: TableIndexes = new Map();
  let at = 0;
  for (const [index, header] of headers.entries()) {
    const end = headers[index + 1]?.line ?? Number.POSITIVE_INFINITY;
    while (at < statements.length && (statements[at] as ParsedStatement).line < header.line) at++;
    const first = statements[at];
    if (!first || first.line >= end) continue;
    const table = indexedTable(first);
    if (table === undefined || !tables.has(table)) continue;
    const entry = candidates[index] as TocEntry;
    result.set(table, [...(result.get(table) ?? []), entry]);
  }
  return result;
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
