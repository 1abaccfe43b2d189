// Splits migration SQL into statements with the real PostgreSQL parser (libpg-query): each
// statement's exact text, its line in the file, and its parse tree for lint and analysis.
import { loadModule, parseSync } from 'libpg-query';
import { onBaselineCode } from '../infra/process/wasm-tiering.js';
import { relationName } from './table-key.js';

/** A parse tree node: { NodeType: { …fields } }. The parser's JSON has no static shape. */
export type PgNode = Record<string, unknown>;

/** One statement of a migration file. */
export interface ParsedStatement {
  /** The statement as written, without leading comments, without the trailing semicolon. */
  sql: string;
  /** 1-based line of the statement's first token in the file. */
  line: number;
  /** Node type, e.g. "IndexStmt", "AlterTableStmt". */
  kind: string;
  /** The node's fields (the value under `kind`). */
  node: PgNode;
}

/** A syntax error, with the line it is on. */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly position: number,
  ) {
    super(message);
    this.name = 'SqlSyntaxError';
  }
}

let loaded: Promise<void> | undefined;

/** Loads the WASM parser once. */
export function loadParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

/** Whether warmParser has run in this process (a `serve` process runs many refreshes). */
let warming = false;

/** Statements of the kinds a backup's post-data section holds, for warmParser. */
export const WARM_UP_SQL = `
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX users_email_key ON public.users USING btree (lower((email)::text)) WHERE (deleted_at IS NULL);
CREATE INDEX "Order Lines_at_idx" ON ONLY "Sales.EU"."Order ""Lines""" USING btree (at DESC NULLS LAST);
ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES public.users(id) NOT VALID;
CREATE TRIGGER audit AFTER INSERT OR UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.audit();
`;

/**
 * Loads the parser and parses a few post-data statements, in the background, once: loading and
 * compiling the parser's WebAssembly (and its first calls, compiled lazily) cost ~0.1–0.2 s, done
 * while the CPU waits (a backup being located and downloaded) instead of when the restore parses
 * the backup's post-data. The parser stays on baseline code (src/infra/process/wasm-tiering.ts):
 * its optimizing compile was what competed with the masking. A failure here is left to the parse
 * that needs the parser.
 */
export function warmParser(): void {
  if (warming) return;
  warming = true;
  loadParser()
    .then(() => {
      onBaselineCode(() => {
        for (let round = 0; round < 10; round++) parseSync(WARM_UP_SQL);
      });
    })
    .catch(() => undefined);
}

interface RawStatement {
  stmt: PgNode;
  stmt_location?: number;
  stmt_len?: number;
}

/** Parses a whole file; call loadParser() first. Throws SqlSyntaxError with the line. */
export function parseStatements(text: string): ParsedStatement[] {
  let result: { stmts?: RawStatement[] };
  try {
    // On baseline code: src/infra/process/wasm-tiering.ts.
    result = onBaselineCode(() => parseSync(text)) as { stmts?: RawStatement[] };
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const position = details?.cursorPosition ?? 0;
    throw new SqlSyntaxError((error as Error).message, lineAt(text, position), position);
  }
  const bytes = Buffer.from(text, 'utf8');
  // Lines are counted incrementally: a dump's schema section can hold thousands of statements.
  let scanned = 0;
  let linesBefore = 0;
  return (result.stmts ?? []).map((raw) => {
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    linesBefore += newlinesIn(bytes, scanned, start);
    scanned = start;
    const span = bytes.subarray(start, end).toString('utf8');
    const lead = leadingTriviaLength(span);
    const sql = span.slice(lead).trim().replace(/;\s*$/, '');
    const kind = Object.keys(raw.stmt)[0] ?? 'Unknown';
    const line = linesBefore + countLines(span.slice(0, lead)) + 1;
    return { sql, line, kind, node: (raw.stmt[kind] ?? {}) as PgNode };
  });
}

function newlinesIn(bytes: Buffer, from: number, to: number): number {
  let count = 0;
  for (let index = bytes.indexOf(10, from); index !== -1 && index < to; index = bytes.indexOf(10, index + 1))
    count++;
  return count;
}

/** Length of whitespace and comments (`--` and nested `/* *\/`) at the start of `text`. */
export function leadingTriviaLength(text: string): number {
  let index = 0;
  for (;;) {
    while (index < text.length && /\s/.test(text[index] as string)) index++;
    if (text.startsWith('--', index)) {
      const newline = text.indexOf('\n', index);
      index = newline === -1 ? text.length : newline + 1;
    } else if (text.startsWith('/*', index)) {
      let depth = 0;
      do {
        if (text.startsWith('/*', index)) {
          depth++;
          index += 2;
        } else if (text.startsWith('*/', index)) {
          depth--;
          index += 2;
        } else {
          index++;
        }
      } while (depth > 0 && index < text.length);
    } else {
      return index;
    }
  }
}

function countLines(text: string): number {
  let lines = 0;
  for (const char of text) if (char === '\n') lines++;
  return lines;
}

/** Line of a 0-based byte offset (libpg-query's cursorPosition). */
function lineAt(text: string, bytePosition: number): number {
  const prefix = Buffer.from(text, 'utf8').subarray(0, Math.max(0, bytePosition)).toString('utf8');
  return countLines(prefix) + 1;
}

/** Every RangeVar in a tree, as schema-qualified (or bare) relation names, in order. */
export function relationsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) relationsIn(item, found);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'RangeVar' || ((key === 'relation' || key === 'pktable') && isRangeVar(value))) {
        const rangeVar = value as { schemaname?: string; relname: string };
        const name = relationName(rangeVar.schemaname, rangeVar.relname);
        if (!found.includes(name)) found.push(name);
      } else {
        relationsIn(value, found);
      }
    }
  }
  return found;
}

function isRangeVar(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { relname?: unknown }).relname === 'string'
  );
}

/** The statements PostgreSQL refuses to run inside a transaction block. */
export function requiresNoTransaction(statement: ParsedStatement): boolean {
  const node = statement.node as {
    concurrent?: boolean;
    params?: { DefElem?: { defname?: string } }[];
    is_vacuumcmd?: boolean;
    kind?: string;
  };
  switch (statement.kind) {
    case 'IndexStmt':
    case 'DropStmt':
      return node.concurrent === true;
    case 'ReindexStmt':
      return (node.params ?? []).some((param) => param.DefElem?.defname === 'concurrently');
    case 'VacuumStmt':
      return node.is_vacuumcmd === true;
    case 'CreatedbStmt':
    case 'DropdbStmt':
    case 'AlterSystemStmt':
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
      return true;
    default:
      return false;
  }
}

/** True when the file controls its own transactions (BEGIN/COMMIT/ROLLBACK in it). */
export function hasTransactionControl(statements: readonly ParsedStatement[]): boolean {
  return statements.some((statement) => statement.kind === 'TransactionStmt');
}
