// golang-migrate: <version>_<name>.up.sql / .down.sql, numeric order; schema_migrations
// (version bigint, dirty boolean) holds one row, the current version. As its postgres driver
// does (database/postgres/postgres.go: Run → one conn.ExecContext of the whole file without
// arguments, i.e. one simple-query message; SetVersion → TRUNCATE + INSERT in a transaction of
// its own; migrate.go runMigrations → SetVersion(v, dirty=true), Run, SetVersion(v, false)): a
// file of several statements is one implicit transaction; a failure leaves the version dirty,
// and the next `migrate up` refuses until someone runs `migrate force`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withTransaction } from '../../../infra/pg/with-client.js';
import type { MigrationAdapter, MigrationFile, MigrationPlan } from './adapter.js';
import { listFiles } from './files.js';

const UP = /^(\d+)_(.+)\.up\.sql$/;

/** The golang-migrate adapter. */
export function golangMigrateAdapter(): MigrationAdapter {
  return {
    tool: 'golang-migrate',
    supportsDown: true,
    historyInTransaction: false,

    async discover(dir) {
      const names = await listFiles(dir);
      const files: MigrationFile[] = [];
      for (const name of names) {
        const match = UP.exec(name);
        if (!match) continue;
        const version = match[1] as string;
        const down = `${version}_${match[2]}.down.sql`;
        files.push({
          id: String(BigInt(version)),
          name: name.replace(/\.up\.sql$/, ''),
          file: join(dir, name),
          sql: await readFile(join(dir, name), 'utf8'),
          kind: 'versioned',
          ...(names.includes(down) && { downFile: join(dir, down) }),
        });
      }
      return files.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0));
    },

    async plan(client, files) {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)',
      );
      const row = (
        await client.query<{ version: string; dirty: boolean }>(
          'SELECT version::text, dirty FROM schema_migrations LIMIT 1',
        )
      ).rows[0];
      const plan: MigrationPlan = { pending: [], skipped: [], notes: [], blockers: [] };
      if (row?.dirty) {
        plan.blockers.push(
          `schema_migrations is dirty at version ${row.version}: golang-migrate refuses to migrate until someone fixes it and runs "migrate force"`,
        );
        return plan;
      }
      const current = row ? BigInt(row.version) : -1n;
      if (row && !files.some((file) => BigInt(file.id) === current)) {
        plan.blockers.push(
          `the database is at version ${row.version}, which has no file in the migrations directory`,
        );
        return plan;
      }
      plan.pending = files.filter((file) => BigInt(file.id) > current);
      return plan;
    },

    execution() {
      return 'one-message';
    },

    async before(client, file) {
      await setVersion(client, file.id, true);
    },

    async recordSuccess(client, file) {
      await setVersion(client, file.id, false);
    },
  };
}

/** What golang-migrate's postgres driver does in SetVersion: truncate and insert, in one transaction. */
async function setVersion(client: import('pg').Client, version: string, dirty: boolean): Promise<void> {
  await withTransaction(client, async () => {
    await client.query('TRUNCATE schema_migrations');
    await client.query('INSERT INTO schema_migrations (version, dirty) VALUES ($1, $2)', [version, dirty]);
  });
}
