// The restore's own check: every table the archive had data for is in the new database. It
// runs right after the restore, before any migration — a pending DROP TABLE or RENAME is a
// normal release, not a lost table.

import type { PgTarget } from '../../infra/pg/connection.js';
import { withClient } from '../../infra/pg/with-client.js';
import type { VerifyCheckRecord } from '../../record/run-record.js';
import { tableKeySql } from '../../sql/table-key.js';

/** `archive-tables-present`: passed when every `schema.table` in `expected` exists in `next`. */
export async function checkArchiveTables(
  next: PgTarget,
  expected: readonly string[],
): Promise<VerifyCheckRecord> {
  const present = await withClient(next, 'staging-refresh:verify', async (client) => {
    const result = await client.query<{ name: string }>(`
      SELECT ${tableKeySql('n.nspname', 'c.relname')} AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'm')`);
    return new Set(result.rows.map((row) => row.name));
  });
  const missing = expected.filter((name) => !present.has(name));
  return missing.length === 0
    ? { name: 'archive-tables-present', status: 'passed', message: `all ${expected.length} tables restored` }
    : {
        name: 'archive-tables-present',
        status: 'failed',
        message: `missing after restore: ${missing.join(', ')}`,
      };
}
