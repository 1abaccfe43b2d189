// After a table's stream: the rows of its unique masked columns whose output an earlier row had
// already written are re-keyed in the table, in the load's own transaction and before post-data
// builds the unique index. The stream wrote every row's plain output and its key to a ledger
// (output-ledger.ts) instead of holding a table of outputs in memory, so the tool's memory does
// not grow with the table; rekey-plan.ts decides which rows take which outputs — the same as
// unique-masker.ts would have written in the stream. Rows are found again by content: the rows
// to change are loaded, masked as the stream masked them, into a temporary table, and each is
// matched to one row of the table with the same values (rows with the same values are
// interchangeable); the count updated must be the count planned, or the run fails.
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyLines } from '../../anonymize/copy-lines.js';
import { LedgerIndex } from '../../anonymize/output-ledger.js';
import type { KeyedPrf } from '../../anonymize/prf/keyed-prf.js';
import { planRekeys } from '../../anonymize/rekey-plan.js';
import {
  type ColumnRule,
  compileRule,
  compileRuleBytes,
  type RowAccess,
} from '../../anonymize/strategies/registry.js';
import type { TableTransform } from '../../anonymize/table-transform.js';
import { outputKey } from '../../anonymize/unique-masker.js';
import { decodeField, encodeField } from '../../format/copy-text.js';
import { ident } from '../../infra/pg/connection.js';
import { ArchiveReadError, type TableDataSource } from './table-data-source.js';

/** The rows planned for re-keying were not all found and changed (the run stops; nothing half-done is kept). */
export class UniqueRepairError extends Error {}

export interface UniqueRepairInput {
  client: pg.Client;
  /** For messages: the table as the config names it. */
  table: string;
  /** The table whose rows are changed (schema-qualified and quoted). */
  target: string;
  /** The COPY columns, in order. */
  columns: readonly string[];
  /** Per unique masked column, its closed ledger. */
  ledgers: ReadonlyMap<string, { path: string; rows: number }>;
  rules: Readonly<Record<string, ColumnRule>>;
  types: ReadonlyMap<string, string>;
  prf: KeyedPrf;
  domain: string;
  /** The table's transform with plain unique outputs (no ledger): what the stream wrote. */
  plain: () => TableTransform;
  /** The table's COPY text again, from the start. */
  reread: () => TableDataSource;
}

/** Re-keys what the stream would have; the number of rows changed. */
export async function repairUniqueOutputs(input: UniqueRepairInput): Promise<number> {
  const positions = new Map(input.columns.map((column, index) => [column, index]));
  const lines = new Map<number, string>();
  const readLines = async (rows: readonly number[]) => {
    const wanted = new Set(rows.filter((row) => !lines.has(row)));
    if (wanted.size > 0) for (const [row, line] of await rowsOf(input, wanted)) lines.set(row, line);
  };
  /** Column → row → its re-keyed output. */
  const plans = new Map<string, Map<number, string | null>>();
  for (const [column, ledger] of input.ledgers) {
    const rule = input.rules[column] as ColumnRule;
    const ctx = { prf: input.prf, type: input.types.get(column) ?? 'text', domain: input.domain };
    const bytes = compileRuleBytes(rule, ctx);
    const at = positions.get(column) as number;
    const index = LedgerIndex.build(ledger);
    try {
      const plan = await planRekeys({
        table: input.table,
        column,
        index,
        mask: compileRule(rule, ctx),
        keyOf: (out) => outputKey(bytes, out),
        originals: async (rows) => {
          await readLines(rows);
          return new Map(
            rows.map((row) => {
              const line = lines.get(row) as string;
              // The other fields only for a rule that reads the row (not kept split: rows re-keyed may be many).
              const access: RowAccess = (name) => {
                const field = line.split('\t')[positions.get(name) ?? -1];
                return field === undefined ? null : decodeField(field);
              };
              return [
                row,
                { value: decodeField(line.split('\t', at + 1)[at] as string) as string, row: access },
              ];
            }),
          );
        },
      });
      if (plan.size > 0) plans.set(column, plan);
    } finally {
      index.remove();
    }
  }
  if (plans.size === 0) return 0;
  const rows = [...new Set([...plans.values()].flatMap((plan) => [...plan.keys()]))].sort((a, b) => a - b);
  await readLines(rows);
  const plain = input.plain();
  const before: string[] = [];
  const after: string[] = [];
  rows.forEach((row, ord) => {
    const masked = plain.line(lines.get(row) as string);
    const fields = masked.split('\t');
    for (const [column, plan] of plans)
      if (plan.has(row)) fields[positions.get(column) as number] = encodeField(plan.get(row) ?? null);
    before.push(`${masked}\t${ord}\n`);
    after.push(`${fields.join('\t')}\t${ord}\n`);
  });
  return apply(input, [...plans.keys()], before, after);
}

/** The raw COPY lines of `rows` (by position in the stream), read from the start of the data. */
async function rowsOf(input: UniqueRepairInput, rows: ReadonlySet<number>): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  let last = 0;
  for (const row of rows) if (row > last) last = row;
  const source = input.reread();
  const lines = new CopyLines(() => input.plain());
  let row = 0;
  try {
    for await (const chunk of source.chunks) {
      for (const span of lines.cut(chunk).spans) {
        for (let start = 0; start < span.length; row++) {
          const newline = span.indexOf(10, start);
          if (rows.has(row)) found.set(row, span.utf8Slice(start, newline));
          start = newline + 1;
        }
        if (row > last) return found;
      }
    }
    const failed = await source.finish();
    if (failed)
      throw new ArchiveReadError(`reading the rows to re-key again: ${failed.problem}\n${failed.stderr}`);
  } finally {
    source.stop();
  }
  if (found.size < rows.size)
    throw new Error(
      `reading the rows to re-key again found ${found.size} of ${rows.size}: the backup changed`,
    );
  return found;
}

/** Loads the rows as written and as re-keyed into temporary tables, and updates the table's matching rows. */
async function apply(
  input: UniqueRepairInput,
  changed: readonly string[],
  before: readonly string[],
  after: readonly string[],
): Promise<number> {
  const { client, target, columns } = input;
  const taken = new Set(columns);
  let ord = 'staging_refresh_ord';
  while (taken.has(ord)) ord = `_${ord}`;
  const list = columns.map(ident).join(', ');
  const row = (alias: string) =>
    `ROW(${columns.map((column) => `${alias}.${ident(column)}`).join(', ')})::text`;
  const old = 'pg_temp.staging_refresh_rekey_before';
  const fresh = 'pg_temp.staging_refresh_rekey_after';
  for (const table of [old, fresh]) {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(
      `CREATE TEMP TABLE ${table.slice('pg_temp.'.length)} AS SELECT ${list} FROM ${target} WITH NO DATA`,
    );
    await client.query(`ALTER TABLE ${table} ADD COLUMN ${ident(ord)} bigint`);
  }
  await copyLines(client, `COPY ${old} (${list}, ${ident(ord)}) FROM STDIN`, before);
  await copyLines(client, `COPY ${fresh} (${list}, ${ident(ord)}) FROM STDIN`, after);
  const candidates = changed
    .map((column) => `t.${ident(column)} IN (SELECT ${ident(column)} FROM ${old})`)
    .join(' OR ');
  const result = await client.query(
    `UPDATE ONLY ${target} AS t SET ${changed.map((column) => `${ident(column)} = n.${ident(column)}`).join(', ')}
       FROM (
         SELECT m.tid, o.${ident(ord)} AS ord
           FROM (SELECT t.ctid AS tid, ${row('t')} AS content,
                        row_number() OVER (PARTITION BY ${row('t')} ORDER BY t.ctid) AS rn
                   FROM ONLY ${target} AS t WHERE ${candidates}) AS m
           JOIN (SELECT o.${ident(ord)}, ${row('o')} AS content,
                        row_number() OVER (PARTITION BY ${row('o')} ORDER BY o.${ident(ord)}) AS rn
                   FROM ${old} AS o) AS o
             USING (content, rn)
       ) AS p
       JOIN ${fresh} AS n ON n.${ident(ord)} = p.ord
      WHERE t.ctid = p.tid`,
  );
  await client.query(`DROP TABLE ${old}, ${fresh}`);
  if (result.rowCount !== before.length)
    throw new UniqueRepairError(
      `re-keying ${input.table}'s unique masked columns matched ${result.rowCount ?? 0} of the ${before.length} rows to change`,
    );
  return before.length;
}

async function copyLines(client: pg.Client, sql: string, lines: readonly string[]): Promise<void> {
  const copy = client.query(copyFrom(sql));
  const finished = once(copy, 'finish');
  for (const line of lines) if (!copy.write(line)) await once(copy, 'drain');
  copy.end();
  await finished;
}
