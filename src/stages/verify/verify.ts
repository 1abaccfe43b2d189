// verify: the new database must hold every table the archive had data for, and pass the
// configured SQL checks. A failed check stops the run before the swap.
import type pg from 'pg';
import { checkLeaks } from '../../anonymize/leak-check.js';
import type { LeakSamples } from '../../anonymize/leak-sampler.js';
import type { PgTarget } from '../../infra/pg/connection.js';
import { withClient } from '../../infra/pg/with-client.js';
import type { VerifyCheckRecord } from '../../record/run-record.js';

export interface VerifyInput {
  next: PgTarget;
  /** `schema.table` names the archive has data for. */
  archiveTables: readonly string[];
  checks: readonly { name: string; sql: string }[];
  /** Rows sampled while masking: the same rows may not hold their originals in the new database. */
  leakSamples?: LeakSamples;
}

/** Runs the checks; returns every result (the caller fails the run if any failed). */
export async function verifyDatabase(input: VerifyInput): Promise<VerifyCheckRecord[]> {
  return withClient(input.next, 'staging-refresh:verify', async (client) => {
    const results: VerifyCheckRecord[] = [await tablesPresent(client, input.archiveTables)];
    for (const check of input.checks) results.push(await customCheck(client, check));
    if (input.leakSamples) results.push(...(await checkLeaks(client, input.leakSamples)));
    return results;
  });
}

async function tablesPresent(client: pg.Client, expected: readonly string[]): Promise<VerifyCheckRecord> {
  const result = await client.query<{ name: string }>(`
    SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'm')`);
  const present = new Set(result.rows.map((row) => row.name));
  const missing = expected.filter((name) => !present.has(name));
  return missing.length === 0
    ? { name: 'archive-tables-present', status: 'passed', message: `all ${expected.length} tables restored` }
    : {
        name: 'archive-tables-present',
        status: 'failed',
        message: `missing after restore: ${missing.join(', ')}`,
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
