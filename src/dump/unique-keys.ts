// The unique indexes and primary/unique constraints of a backup, read from its post-data section
// (`pg_restore --section=post-data`, or a plain dump's SQL read ahead; parsed by the PostgreSQL
// parser) — before any row is restored, when the new database does not have them yet. Masking must
// keep these columns unique.
import { basename } from 'node:path';
import { pgTool } from '../infra/pg/pg-bin.js';
import { runTool } from '../infra/process/run-tool.js';
import { loadParser, type ParsedStatement, parseStatements } from '../sql/parse-sql.js';
import { tableKey } from '../sql/table-key.js';
import { scriptText } from './dump-encoding.js';
import { plainSqlEvents } from './plain-sql-events.js';
import { openBackup } from './read-backup.js';

/** One unique index or constraint: `schema.table`, its name and its plain columns. */
export interface UniqueKey {
  table: string;
  name: string;
  columns: string[];
  primary: boolean;
}

/**
 * The ruled columns of `table` that have a unique key of their own (masking keeps their outputs
 * apart, and does not split the table across threads).
 */
export function uniqueRuledColumns(
  keys: readonly UniqueKey[],
  table: string,
  rules: Readonly<Record<string, unknown>>,
): string[] {
  return keys
    .filter((key) => key.table === table && key.columns.length === 1)
    .map((key) => key.columns[0] as string)
    .filter((column) => column in rules);
}

/** The unique keys an archive's post-data section creates (expression and partial indexes left out). */
export async function archiveUniqueKeys(archive: string, signal?: AbortSignal): Promise<UniqueKey[]> {
  await loadParser();
  const { stdoutBytes } = await runTool({
    bytes: true,
    file: pgTool('pg_restore'),
    args: ['--section=post-data', '--no-owner', '--no-privileges', '--file=-', archive],
    ...(signal && { signal }),
  });
  // In the dump's encoding (a LATIN1 column name is the characters the rules name).
  const text = scriptText(stdoutBytes ?? Buffer.alloc(0));
  // psql meta-commands (`\\restrict …` in recent pg_dump output) are not SQL.
  return uniqueKeysIn(parseStatements(text.replace(/^\\.*$/gm, '')));
}

interface Relation {
  schemaname?: string;
  relname?: string;
}
interface IndexNode {
  idxname?: string;
  relation?: Relation;
  unique?: boolean;
  whereClause?: unknown;
  indexParams?: { IndexElem?: { name?: string } }[];
}
interface AlterNode {
  relation?: Relation;
  cmds?: {
    AlterTableCmd?: {
      subtype?: string;
      def?: { Constraint?: { contype?: string; conname?: string; keys?: { String?: { sval?: string } }[] } };
    };
  }[];
}

/** Unique keys in parsed statements (CREATE UNIQUE INDEX, ADD CONSTRAINT … PRIMARY KEY / UNIQUE). */
export function uniqueKeysIn(statements: readonly ParsedStatement[]): UniqueKey[] {
  const keys: UniqueKey[] = [];
  // As every other map of tables spells them: a dotted or quoted name in its key form.
  const tableOf = (relation: Relation | undefined) =>
    tableKey(relation?.schemaname ?? 'public', relation?.relname ?? '');
  for (const statement of statements) {
    if (statement.kind === 'IndexStmt') {
      const node = statement.node as IndexNode;
      if (!node.unique || node.whereClause) continue;
      const columns = (node.indexParams ?? []).map((param) => param.IndexElem?.name);
      if (columns.some((column) => column === undefined)) continue;
      keys.push({
        table: tableOf(node.relation),
        name: node.idxname ?? '',
        columns: columns as string[],
        primary: false,
      });
    } else if (statement.kind === 'AlterTableStmt') {
      const node = statement.node as AlterNode;
      for (const command of node.cmds ?? []) {
        const constraint = command.AlterTableCmd?.def?.Constraint;
        if (command.AlterTableCmd?.subtype !== 'AT_AddConstraint' || !constraint) continue;
        if (constraint.contype !== 'CONSTR_PRIMARY' && constraint.contype !== 'CONSTR_UNIQUE') continue;
        keys.push({
          table: tableOf(node.relation),
          name: constraint.conname ?? '',
          columns: (constraint.keys ?? []).map((key) => key.String?.sval ?? ''),
          primary: constraint.contype === 'CONSTR_PRIMARY',
        });
      }
    }
  }
  return keys;
}

/**
 * The unique keys a plain dump creates. They come after the data in the file, so the file is read
 * ahead once for its SQL (the data lines pass by unparsed) before any row is masked. A file that
 * cannot be read to its end gives the keys found so far and the reason (the restore's own pass
 * reports the file's error as it reaches it).
 */
export async function plainUniqueKeys(
  path: string,
  gzip: boolean,
  signal?: AbortSignal,
): Promise<{ keys: UniqueKey[]; incomplete?: string }> {
  const keys: UniqueKey[] = [];
  const source = openBackup(path, gzip);
  try {
    await loadParser();
    for await (const event of plainSqlEvents(source as AsyncIterable<Buffer>, basename(path))) {
      if (signal?.aborted) return { keys, incomplete: 'stopped' };
      if (event.type === 'sql') keys.push(...uniqueKeysIn(event.statements));
    }
    return { keys };
  } catch (error) {
    return { keys, incomplete: (error as Error).message };
  } finally {
    source.destroy();
  }
}
