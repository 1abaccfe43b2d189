// verify: what the migrations leave. After the pending migrations ran, the new database must
// pass the configured SQL checks, and no masked column that still exists may hold its sampled
// row's original value (anonymize/leak-check.ts; a column or table a migration dropped or renamed
// holds nothing to leak). (That every archived table was restored is checked before the migrations, in
// archive-tables.ts: a migration may drop or rename a table.) A failed check stops the run
// before the swap.
import type pg from 'pg';
import { checkLeaks } from '../../anonymize/leak-check.js';
import type { LeakSamples } from '../../anonymize/leak-sampler.js';
import type { PgTarget } from '../../infra/pg/connection.js';
import { withClient } from '../../infra/pg/with-client.js';
import type { VerifyCheckRecord } from '../../record/run-record.js';

export interface VerifyInput {
  next: PgTarget;
  checks: readonly { name: string; sql: string }[];
  /** Rows sampled while masking: the same rows may not hold their originals in the new database. */
  leakSamples?: LeakSamples;
  /** SIGTERM: the running check is cancelled. */
  signal?: AbortSignal;
}

/** Runs the checks; returns every result (the caller fails the run if any failed). */
export async function verifyDatabase(input: VerifyInput): Promise<VerifyCheckRecord[]> {
  return withClient(
    input.next,
    'staging-refresh:verify',
    async (client) => {
      const results: VerifyCheckRecord[] = [];
      for (const check of input.checks) {
        if (input.signal?.aborted) break;
        results.push(await customCheck(client, check));
      }
      if (input.leakSamples) results.push(...(await checkLeaks(client, input.leakSamples)));
      return results;
    },
    input.signal,
  );
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
