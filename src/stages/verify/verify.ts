// verify: what the migrations leave. After the pending migrations ran, the new database must
// pass the configured SQL checks, and no masked column that still exists may hold a sampled
// original value. (That every archived table was restored is checked before the migrations, in
// archive-tables.ts: a migration may drop or rename a table.) A failed check stops the run
// before the swap.
import type pg from 'pg';
import { ident, type PgTarget, qualifiedName } from '../../infra/pg/connection.js';
import { withClient } from '../../infra/pg/with-client.js';
import type { VerifyCheckRecord } from '../../record/run-record.js';

export interface VerifyInput {
  next: PgTarget;
  checks: readonly { name: string; sql: string }[];
  /** Original values sampled from the archive per masked column: none may appear in the new database. */
  leakSamples?: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;
}

/** Runs the checks; returns every result (the caller fails the run if any failed). */
export async function verifyDatabase(input: VerifyInput): Promise<VerifyCheckRecord[]> {
  return withClient(input.next, 'staging-refresh:verify', async (client) => {
    const results: VerifyCheckRecord[] = [];
    for (const check of input.checks) results.push(await customCheck(client, check));
    const existing = await existingColumns(client);
    for (const [table, columns] of input.leakSamples ?? []) {
      for (const [column, originals] of columns) {
        // A column a migration dropped (or whose table it dropped or renamed) holds nothing to leak.
        if (existing.has(`${table}.${column}`)) results.push(await noLeak(client, table, column, originals));
        else
          results.push({
            name: `no-leak:${table}.${column}`,
            status: 'passed',
            message: 'gone after the migrations (dropped or renamed): nothing left to leak',
          });
      }
    }
    return results;
  });
}

/** `schema.table.column` of every column of an ordinary, partitioned or materialized table. */
async function existingColumns(client: pg.Client): Promise<Set<string>> {
  const result = await client.query<{ name: string }>(`
    SELECT n.nspname || '.' || c.relname || '.' || a.attname AS name
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped`);
  return new Set(result.rows.map((row) => row.name));
}

/** No sampled original value of a masked column is found in it after the restore. */
async function noLeak(
  client: pg.Client,
  table: string,
  column: string,
  originals: readonly string[],
): Promise<VerifyCheckRecord> {
  const name = `no-leak:${table}.${column}`;
  if (originals.length === 0) return { name, status: 'passed', message: 'no non-null originals to compare' };
  const dot = table.indexOf('.');
  const result = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${qualifiedName(table.slice(0, dot), table.slice(dot + 1))} WHERE ${ident(column)}::text = ANY($1::text[])`,
    [originals],
  );
  const found = Number(result.rows[0]?.n ?? 0);
  return found === 0
    ? { name, status: 'passed', message: `none of ${originals.length} sampled originals found` }
    : {
        name,
        status: 'failed',
        message: `${found} row(s) still hold an original value (of ${originals.length} sampled): masking leaked`,
      };
}

/** A check passes when its query runs and its first column of the first row is not false/0/null. */
async function customCheck(
  client: pg.Client,
  check: { name: string; sql: string },
): Promise<VerifyCheckRecord> {
  try {
    const result = await client.query({ text: check.sql, rowMode: 'array' });
    const value: unknown = result.rows[0]?.[0];
    const passed =
      result.rows.length > 0 && value !== false && value !== null && value !== 0 && value !== '0';
    return {
      name: check.name,
      status: passed ? 'passed' : 'failed',
      message: `returned ${JSON.stringify(value ?? null)}`,
    };
  } catch (error) {
    return { name: check.name, status: 'failed', message: `error: ${(error as Error).message}` };
  }
}
