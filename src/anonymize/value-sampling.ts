// The value half of the PII gate: the first rows of each table are read from the archive — its
// data block where the reader can (custom-archive.ts), else `pg_restore --data-only -t … -f -` —
// stopped after `rows` lines (never the whole table), and the columns no rule covers are
// classified by content.
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import type { Config } from '../config/schema.js';
import type { ColumnInfo } from '../dump/column-info.js';
import { type DirectTableRead, readTableData } from '../dump/custom-archive.js';
import { DumpEncodingError, utf8Chunks } from '../dump/dump-encoding.js';
import { tableDataArgs } from '../dump/pg-restore-args.js';
import { decodeField, parseCopyHeader } from '../format/copy-text.js';
import { pgTool } from '../infra/pg/pg-bin.js';
import type { AnonymizeRecord } from '../record/run-record.js';
import { columnKey, splitTableKey } from '../sql/table-key.js';
import { keptColumns, qualify } from './pii-gate.js';
import { classifyValues, type FoundIn, sampledType, suggestionFor } from './value-detect.js';

const WHERE: Record<FoundIn, string> = {
  value: '',
  json: ' inside JSON',
  array: ' in its array elements',
  text: ' inside free text',
};

/**
 * `schema.table` → the columns to sample there (text-like, no rule, no keep). Not `partitioned`
 * tables (the database's own, relkind p): they hold no rows (their partitions do, each sampled on
 * its own), and pg_restore started to read each one's nothing cost ~50 ms a table on an archive
 * of 4,000 entries — 100 partitioned tables, ~5 s of the data section. Skipped by what the
 * catalog says they are, not by the archive listing's names (a name it prints otherwise would
 * leave a table unsampled).
 */
export function columnsToSample(
  anonymize: Config['anonymize'],
  columns: readonly ColumnInfo[],
  alreadyFlagged: ReadonlySet<string>,
  partitioned?: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): Map<string, string[]> {
  const rules = new Map(Object.entries(anonymize.tables).map(([key, value]) => [qualify(key), value]));
  const kept = keptColumns(anonymize);
  const wanted = new Map<string, string[]>();
  for (const column of columns) {
    const rule = rules.get(column.table);
    const name = columnKey(column.table, column.column);
    if (rule === 'truncate' || (rule && column.column in rule) || kept.has(name) || alreadyFlagged.has(name))
      continue;
    if (!sampledType(column.type) || partitioned?.has(column.table)) continue;
    wanted.set(column.table, [...(wanted.get(column.table) ?? []), column.column]);
  }
  return wanted;
}

/** Findings for sampled columns whose values look like PII. */
export function valueFindings(
  anonymize: Config['anonymize'],
  table: string,
  samples: ReadonlyMap<string, readonly string[]>,
): AnonymizeRecord['findings'] {
  const findings: AnonymizeRecord['findings'] = [];
  for (const [column, values] of samples) {
    const found = classifyValues(values);
    if (!found) continue;
    findings.push({
      rule: 'unknown-pii-values',
      severity: anonymize.unknownPii === 'fail' ? 'error' : 'warning',
      column: columnKey(table, column),
      message: `${columnKey(table, column)} holds ${found.kind.what}${WHERE[found.in]}${found.path ? ` (at ${found.path})` : ''} (${found.matches} of ${values.length} sampled values) and has no rule: add one (e.g. ${column}: ${suggestionFor(found)}) or list it in anonymize.keep`,
      suggest: suggestionFor(found),
    });
  }
  return findings;
}

/** The non-null values of `wanted` columns in COPY text `lines` whose columns are `header`. */
export function columnValues(
  lines: readonly string[],
  header: readonly string[],
  wanted: readonly string[],
): Map<string, string[]> {
  const positions = wanted.map((column) => [column, header.indexOf(column)] as const);
  const values = new Map(wanted.map((column) => [column, [] as string[]]));
  for (const line of lines) {
    const fields = line.split('\t');
    for (const [column, index] of positions) {
      const raw = fields[index];
      if (raw !== undefined && raw !== '\\N') values.get(column)?.push(decodeField(raw) ?? '');
    }
  }
  return values;
}

/**
 * Reads up to `rows` rows of one table from the archive; values of `columns` only. From the
 * table's data block when `direct` says where it is (no pg_restore to start: the PII gate and the
 * rule checks sit between pre-data and the first masked row), else from pg_restore. A sample is
 * what could be read: a damaged block is the masked stream's to report, as pg_restore's failure is.
 */
export async function sampleArchiveTable(
  archive: string,
  table: string,
  columns: readonly string[],
  rows: number,
  signal?: AbortSignal,
  direct?: DirectTableRead,
): Promise<Map<string, string[]>> {
  if (direct) {
    const found = await firstLines(
      utf8Chunks(readTableData(archive, direct, signal), direct.encoding ?? 'UTF8'),
      rows,
    ).catch((error: unknown) => {
      if (signal?.aborted || error instanceof DumpEncodingError) throw error;
      return undefined;
    });
    if (found) return columnValues(found.lines, found.header ?? [], columns);
  }
  const name = splitTableKey(table);
  const child = execa(pgTool('pg_restore'), tableDataArgs(archive, name.schema, name.table), {
    buffer: false,
    reject: false,
    stdin: 'ignore',
    stderr: 'ignore',
    ...(signal && { cancelSignal: signal }),
  });
  try {
    const { lines, header } = await firstLines(utf8Chunks(child.stdout as AsyncIterable<Buffer>), rows);
    return columnValues(lines, header ?? [], columns);
  } finally {
    child.kill();
    await child;
  }
}

/** The COPY header's columns and up to `rows` data lines of a table's COPY text; stops reading there. */
export async function firstLines(
  chunks: AsyncIterable<Buffer>,
  rows: number,
): Promise<{ header: string[] | undefined; lines: string[] }> {
  let header: string[] | undefined;
  const lines: string[] = [];
  let pending = '';
  // A character cut between two chunks (pg_restore's pipe hands over 4 KiB at a time) is decoded
  // whole, not as two replacement characters.
  const decoder = new StringDecoder('utf8');
  outer: for await (const chunk of chunks) {
    const chunkLines = (pending + decoder.write(chunk)).split('\n');
    pending = chunkLines.pop() ?? '';
    for (const line of chunkLines) {
      if (!header) {
        header = line.startsWith('COPY ') ? parseCopyHeader(line)?.columns : undefined;
        continue;
      }
      if (line === '\\.' || lines.length >= rows) break outer;
      lines.push(line);
    }
  }
  return { header, lines };
}

/** Samples every table that has columns to check, `jobs` at a time. */
export async function sampleArchive(
  anonymize: Config['anonymize'],
  archive: string,
  wanted: ReadonlyMap<string, string[]>,
  jobs: number,
  signal?: AbortSignal,
  /** Where each table's data block is (by `schema.table`), for those the reader can read. */
  direct?: ReadonlyMap<string, DirectTableRead>,
): Promise<AnonymizeRecord['findings']> {
  const queue = [...wanted.entries()];
  const findings: AnonymizeRecord['findings'] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [table, columns] = next;
      const samples = await sampleArchiveTable(
        archive,
        table,
        columns,
        anonymize.sampleRows,
        signal,
        direct?.get(table),
      );
      findings.push(...valueFindings(anonymize, table, samples));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, queue.length)) }, worker));
  return findings.sort((a, b) => a.column.localeCompare(b.column));
}
