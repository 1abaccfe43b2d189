// The leak check: is the masked value in the same row still the original? Row-aligned, not set
// membership — a fake may by chance produce a value another row had, and that is no leak. Each
// sampled row is found again by its unmasked fields (a primary key or unique index among them when
// there is one) and its masked columns are compared with the originals, typed where the type has
// an equality (dates, numbers: the dump's text and the server's may be written differently).
import type pg from 'pg';
import { ident } from '../infra/pg/connection.js';
import type { VerifyCheckRecord } from '../record/run-record.js';
import { splitTableKey } from '../sql/table-key.js';
import type { LeakSamples, TableLeakSample } from './leak-sampler.js';

/** Types compared as values (cast from the dump's text); every other type is compared as text. */
const TYPED = new Set([
  'int2',
  'int4',
  'int8',
  'numeric',
  'float4',
  'float8',
  'bool',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'uuid',
  'inet',
  'cidr',
  'macaddr',
]);

interface Attribute {
  name: string;
  typname: string;
  /** format_type(): the type as SQL can name it in a cast. */
  sqlType: string;
}

/** One check per leak-checkable masked column of every sampled table. */
export async function checkLeaks(client: pg.Client, samples: LeakSamples): Promise<VerifyCheckRecord[]> {
  // The text forms pg_dump writes (it sets these too), for the columns compared as text.
  await client.query("SET DateStyle = 'ISO, MDY'; SET IntervalStyle = postgres; SET extra_float_digits = 3");
  const results: VerifyCheckRecord[] = [];
  for (const [table, sample] of samples) results.push(...(await checkTable(client, table, sample)));
  return results;
}

async function checkTable(
  client: pg.Client,
  table: string,
  sample: TableLeakSample,
): Promise<VerifyCheckRecord[]> {
  const name = (column: string) => `no-leak:${table}.${column}`;
  // Rows routed through a root are looked for under it: a masked key may have moved them.
  const split = splitTableKey(sample.loadedInto ?? table);
  const relation = `${ident(split.schema)}.${ident(split.table)}`;
  const attributes = await tableAttributes(client, relation);
  const checked = sample.checkedColumns.filter((column) => attributes.has(column));
  const gone = sample.checkedColumns.filter((column) => !attributes.has(column));
  const results: VerifyCheckRecord[] = gone.map((column) => ({
    name: name(column),
    status: 'passed',
    message: 'gone after the migrations (dropped or renamed): nothing left to leak',
  }));
  if (checked.length === 0) return results; // the migrations dropped the columns, or the table
  const counts = new Map(checked.map((column) => [column, 0]));
  for (const row of sample.rows)
    for (const [column] of row.originals)
      if (counts.has(column)) counts.set(column, (counts.get(column) ?? 0) + 1);
  const key = await keyColumns(client, relation, sample.keyColumns, attributes);
  if (key.length === 0) {
    // Nothing identifies a row (every column masked): whether an original is anywhere in the column.
    for (const column of checked) {
      const originals = sample.rows.flatMap((row) =>
        row.originals.filter(([c]) => c === column).map(([, o]) => o),
      );
      const found = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${relation} t WHERE t.${ident(column)}::text = ANY($1::text[])`,
        [originals],
      );
      const n = Number(found.rows[0]?.n ?? 0);
      results.push({
        name: name(column),
        status: n === 0 ? 'passed' : 'failed',
        message:
          n === 0
            ? `none of ${originals.length} sampled originals found (by value: no unmasked column identifies a row)`
            : `${n} row(s) hold one of ${originals.length} sampled originals (by value: no unmasked column identifies a row): masking leaked`,
      });
    }
    return results;
  }
  const keyPositions = key.map((column) => sample.keyColumns.indexOf(column));
  const documents = sample.rows.map((row) => ({
    k: keyPositions.map((position) => row.key[position] ?? null),
    o: Object.fromEntries(row.originals.filter(([column]) => counts.has(column))),
  }));
  const compare = (column: string, valueSql: string): string => {
    const attribute = attributes.get(column) as Attribute;
    return TYPED.has(attribute.typname)
      ? `t.${ident(column)} = CAST(${valueSql} AS ${attribute.sqlType})`
      : `t.${ident(column)}::text = ${valueSql}`;
  };
  const join = key
    .map((column, index) => {
      const value = `s.doc->'k'->>${index}`;
      return `((${value}) IS NULL AND t.${ident(column)} IS NULL OR ${compare(column, value)})`;
    })
    .join(' AND ');
  const leakColumns = checked.map(
    (column, index) => `coalesce(${compare(column, `s.doc->'o'->>${literal(column)}`)}, false) AS l${index}`,
  );
  const result = await client.query<Record<string, unknown>>({
    text: `SELECT s.i, ${leakColumns.join(', ') || 'true AS none'}
             FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS s(doc, i)
             JOIN ${relation} t ON ${join}`,
    values: [JSON.stringify(documents)],
  });
  const found = new Set(result.rows.map((row) => String(row.i)));
  for (const [index, column] of checked.entries()) {
    const total = counts.get(column) ?? 0;
    const leaked = result.rows.filter((row) => row[`l${index}`] === true).length;
    if (leaked > 0) {
      results.push({
        name: name(column),
        status: 'failed',
        message: `${leaked} of ${total} sampled row(s) still hold their original value: masking leaked`,
      });
      continue;
    }
    results.push({
      name: name(column),
      status: 'passed',
      message:
        total === 0
          ? 'no sampled row had a value masking changes'
          : `no original in ${total} sampled row(s) (${found.size} of ${sample.rows.length} rows found again by ${key.join(', ')})`,
    });
  }
  return results;
}

async function tableAttributes(client: pg.Client, relation: string): Promise<Map<string, Attribute>> {
  const result = await client.query<Attribute>(
    `SELECT a.attname::text AS name, t.typname::text AS typname, format_type(a.atttypid, a.atttypmod) AS "sqlType"
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
    [relation],
  );
  // A table a migration dropped or renamed has no columns left here: nothing of it can leak.
  return new Map(result.rows.map((row) => [row.name, row]));
}

/**
 * The columns that find a sampled row again: a primary key or unique index made of unmasked
 * columns when there is one, else every unmasked column still there whose text is the dump's
 * (typed or text-stable), except timestamptz (written in the dumping session's time zone).
 */
async function keyColumns(
  client: pg.Client,
  relation: string,
  unmasked: readonly string[],
  attributes: ReadonlyMap<string, Attribute>,
): Promise<string[]> {
  const indexes = await client.query<{ columns: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.n) AS columns
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid, i.indisprimary ORDER BY i.indisprimary DESC, count(*)`,
    [relation],
  );
  const available = new Set(unmasked.filter((column) => attributes.has(column)));
  const unique = indexes.rows.find((row) => row.columns.every((column) => available.has(column)));
  if (unique) return unique.columns;
  return [...available].filter((column) => attributes.get(column)?.typname !== 'timestamptz');
}

/** A SQL string literal (for a jsonb key). */
function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
