// The unique indexes and primary/unique constraints of a backup, and its foreign keys, read from
// its post-data section (`pg_restore --section=post-data`, or a plain dump's SQL read ahead; parsed
// by the PostgreSQL parser) — before any row is restored, when the new database does not have them
// yet. Masking must keep the unique columns unique, and the two sides of a foreign key matching.
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

/** One foreign key checked when the data is in (NOT VALID ones are left out): `schema.table` keys. */
export interface ForeignKey {
  table: string;
  name: string;
  columns: string[];
  references: { table: string; columns: string[] };
}

/**
 * The ruled columns of `table` that have a unique key of their own (masking keeps their outputs
 * apart: output-ledger.ts and unique-repair.ts for an archive, unique-masker.ts for a plain dump).
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
  return (await archiveKeys(archive, signal)).unique;
}

/** The unique keys and the foreign keys an archive's post-data section creates. */
export async function archiveKeys(
  archive: string,
  signal?: AbortSignal,
): Promise<{ unique: UniqueKey[]; foreign: ForeignKey[] }> {
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
  const statements = parseStatements(text.replace(/^\\.*$/gm, ''));
  return { unique: uniqueKeysIn(statements), foreign: foreignKeysIn(statements) };
}

interface Relation {
  schemaname?: string;
  relname?: string;
}
type NameList = { String?: { sval?: string } }[];
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
      def?: {
        Constraint?: {
          contype?: string;
          conname?: string;
          keys?: NameList;
          fk_attrs?: NameList;
          pk_attrs?: NameList;
          pktable?: Relation;
          skip_validation?: boolean;
        };
      };
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

/** Foreign keys in parsed statements (ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY, validated). */
export function foreignKeysIn(statements: readonly ParsedStatement[]): ForeignKey[] {
  const keys: ForeignKey[] = [];
  const tableOf = (relation: Relation | undefined) =>
    tableKey(relation?.schemaname ?? 'public', relation?.relname ?? '');
  const names = (list: NameList | undefined) => (list ?? []).map((item) => item.String?.sval ?? '');
  for (const statement of statements) {
    if (statement.kind !== 'AlterTableStmt') continue;
    const node = statement.node as AlterNode;
    for (const command of node.cmds ?? []) {
      const constraint = command.AlterTableCmd?.def?.Constraint;
      if (command.AlterTableCmd?.subtype !== 'AT_AddConstraint' || constraint?.contype !== 'CONSTR_FOREIGN')
        continue;
      // pg_dump names the referenced columns; NOT VALID ones are not checked against the data.
      const columns = names(constraint.fk_attrs);
      const referenced = names(constraint.pk_attrs);
      if (constraint.skip_validation || referenced.length !== columns.length) continue;
      keys.push({
        table: tableOf(node.relation),
        name: constraint.conname ?? '',
        columns,
        references: { table: tableOf(constraint.pktable), columns: referenced },
      });
    }
  }
  return keys;
}

/**
 * The unique keys (and foreign keys) a plain dump creates. They come after the data in the file, so the file is read
 * ahead once for its SQL (the data lines pass by unparsed) before any row is masked. A file that
 * cannot be read to its end gives the keys found so far and the reason (the restore's own pass
 * reports the file's error as it reaches it).
 */
export async function plainUniqueKeys(
  path: string,
  gzip: boolean,
  signal?: AbortSignal,
): Promise<{ keys: UniqueKey[]; foreign: ForeignKey[]; copied: Set<string>; incomplete?: string }> {
  const keys: UniqueKey[] = [];
  const foreign: ForeignKey[] = [];
  // The tables the dump has a COPY into (an archive's TABLE DATA entries): not those whose data
  // pg_dump left out (--exclude-table-data).
  const copied = new Set<string>();
  const source = openBackup(path, gzip);
  try {
    await loadParser();
    for await (const event of plainSqlEvents(source as AsyncIterable<Buffer>, basename(path))) {
      if (signal?.aborted) return { keys, foreign, copied, incomplete: 'stopped' };
      if (event.type === 'copy-start') copied.add(tableKey(event.schema, event.table));
      if (event.type !== 'sql') continue;
      keys.push(...uniqueKeysIn(event.statements));
      foreign.push(...foreignKeysIn(event.statements));
    }
    return { keys, foreign, copied };
  } catch (error) {
    return { keys, foreign, copied, incomplete: (error as Error).message };
  } finally {
    source.destroy();
  }
}
