// Reads a plain-SQL dump (pg_dump -Fp) as a stream of events: SQL statements (split and parsed
// by the real PostgreSQL parser), psql meta-commands, and COPY blocks with their data lines.
// Memory is bounded: data lines pass through in the chunks they arrived in, and SQL text is
// flushed as soon as it parses as complete statements. The text is read as UTF-8: a dump in another
// encoding (its `SET client_encoding`) is transcoded as it is read.
import { StringDecoder } from 'node:string_decoder';
import { BadBackupError } from '../errors.js';
import { type ParsedStatement, parseStatements, SqlSyntaxError } from '../sql/parse-sql.js';
import { utf8Chunks } from './dump-encoding.js';

export type PlainSqlEvent =
  | { type: 'sql'; statements: ParsedStatement[] }
  | { type: 'meta'; line: string; lineNumber: number }
  | { type: 'copy-start'; schema: string; table: string; columns: string[]; lineNumber: number }
  | { type: 'copy-data'; lines: string[] }
  | { type: 'copy-end' };

/** SQL text between data blocks is parsed once it is this long and ends a statement. */
const FLUSH_AT = 1024 * 1024;
/** A single statement longer than this (e.g. a giant INSERT) is refused rather than buffered. */
const MAX_SQL = 256 * 1024 * 1024;
const COPY_LINE = /^COPY .* FROM stdin;$/;

/** Splits `input` (a plain SQL dump, already decompressed) into events. */
export async function* plainSqlEvents(
  input: AsyncIterable<Buffer>,
  name: string,
): AsyncGenerator<PlainSqlEvent> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNumber = 0;
  let inCopy = false;
  let sql: string[] = [];
  let sqlLength = 0;
  let sqlStartLine = 1;

  /** Statements of the buffered SQL, or undefined when it does not parse (yet). */
  const tryParse = (): ParsedStatement[] | undefined => {
    try {
      return parseStatements(sql.join('\n')).map((statement) => ({
        ...statement,
        line: statement.line + sqlStartLine - 1,
      }));
    } catch (error) {
      if (error instanceof SqlSyntaxError) return undefined;
      throw error;
    }
  };
  const take = (statements: ParsedStatement[]): PlainSqlEvent => {
    sql = [];
    sqlLength = 0;
    sqlStartLine = lineNumber + 1;
    return { type: 'sql', statements };
  };

  const handleLine = function* (line: string): Generator<PlainSqlEvent> {
    lineNumber++;
    if (inCopy) {
      // Data lines are batched by the caller; this path handles only the terminator.
      if (line === '\\.') {
        inCopy = false;
        sqlStartLine = lineNumber + 1;
        yield { type: 'copy-end' };
      }
      return;
    }
    const special = COPY_LINE.test(line) || line.startsWith('\\');
    if (special) {
      // Only where the SQL before it is complete: the same text inside a function body is SQL.
      const statements = sql.length > 0 ? tryParse() : [];
      if (statements) {
        if (statements.length > 0) yield take(statements);
        else {
          sql = [];
          sqlLength = 0;
        }
        if (line.startsWith('\\')) {
          sqlStartLine = lineNumber + 1;
          yield { type: 'meta', line, lineNumber };
          return;
        }
        const copy = parseCopyLine(line, name, lineNumber);
        inCopy = true;
        yield { type: 'copy-start', ...copy, lineNumber };
        return;
      }
    }
    if (sql.length === 0) sqlStartLine = lineNumber;
    sql.push(line);
    sqlLength += line.length + 1;
    if (sqlLength >= FLUSH_AT && line.trimEnd().endsWith(';')) {
      const statements = tryParse();
      if (statements) yield take(statements);
      else if (sqlLength > MAX_SQL) {
        throw new BadBackupError(
          `${name}: a statement around line ${sqlStartLine} is over ${MAX_SQL / 1024 / 1024} MiB of SQL`,
          { hint: 'restore dumps whose data is COPY blocks (pg_dump without --inserts)' },
        );
      }
    }
  };

  // In UTF-8 whatever the dump's SET client_encoding says (dump-encoding.ts).
  for await (const chunk of utf8Chunks(input)) {
    const lines = (pending + decoder.write(chunk)).split('\n');
    pending = lines.pop() ?? '';
    let data: string[] | undefined;
    for (const line of lines) {
      if (inCopy && line !== '\\.') {
        lineNumber++;
        data ??= [];
        data.push(line);
        continue;
      }
      if (data) {
        yield { type: 'copy-data', lines: data };
        data = undefined;
      }
      yield* handleLine(line);
    }
    if (data) yield { type: 'copy-data', lines: data };
  }
  pending += decoder.end();
  if (pending !== '') yield* handleLine(pending);
  if (inCopy) {
    throw new BadBackupError(`${name} ends in the middle of a COPY block (line ${lineNumber})`, {
      hint: 'the dump is truncated: check the backup job, or point source at an older backup',
    });
  }
  if (sql.some((line) => line.trim() !== '')) {
    let statements: ParsedStatement[];
    try {
      statements = parseStatements(sql.join('\n')).map((statement) => ({
        ...statement,
        line: statement.line + sqlStartLine - 1,
      }));
    } catch (error) {
      if (!(error instanceof SqlSyntaxError)) throw error;
      throw new BadBackupError(
        `${name}: the SQL from line ${sqlStartLine} does not parse (${error.message} on line ${sqlStartLine + error.line - 1})`,
        { hint: 'the dump is truncated or not pg_dump output: check the backup job' },
      );
    }
    if (statements.length > 0) yield take(statements);
  }
}

/** Table and columns of `COPY schema.table (a, b) FROM stdin;`, read by the parser. */
export function parseCopyLine(
  line: string,
  name: string,
  lineNumber: number,
): { schema: string; table: string; columns: string[] } {
  const [statement] = parseStatements(line);
  const node = statement?.node as
    | {
        relation?: { schemaname?: string; relname?: string };
        attlist?: { String?: { sval?: string } }[];
        is_from?: boolean;
        filename?: string;
      }
    | undefined;
  if (statement?.kind !== 'CopyStmt' || !node?.relation?.relname || !node.is_from || node.filename) {
    throw new BadBackupError(`${name}: line ${lineNumber} is not a COPY … FROM stdin of a table: ${line}`);
  }
  return {
    schema: node.relation.schemaname ?? 'public',
    table: node.relation.relname,
    columns: (node.attlist ?? []).map((item) => item.String?.sval ?? ''),
  };
}
