// Prisma Migrate: <dir>/<timestamp>_<name>/migration.sql in folder order; history in
// _prisma_migrations with the sha256 of the file. As the schema engine does (prisma-engines
// schema-engine/core/src/commands/apply_migrations.rs, sql-schema-connector postgres
// connection.rs `apply_migration_script`): a row is inserted when the migration starts, the
// script goes to PostgreSQL as one `simple_query` message (one implicit transaction unless the
// script has its own BEGIN/COMMIT), then applied_steps_count and finished_at are set; on
// failure the error goes into `logs` and finished_at stays NULL, which makes the next deploy
// refuse (P3009). Checksums match as schema-connector/src/checksum.rs matches them: the file as
// it is, with CRLF made LF, or LF made CRLF, and a 64-character or a legacy (not zero-padded)
// rendering. Prisma has no down migrations; a down.sql beside migration.sql is the rollback.
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { MigrationAdapter, MigrationFile, MigrationPlan } from './adapter.js';
import { listDirs, readIfExists } from './files.js';

/** Prisma's checksum: sha256 hex of migration.sql. */
export function prismaChecksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** Whether a stored checksum is that of `sql` as the schema engine decides (line endings, legacy format). */
export function prismaChecksumMatches(sql: string, stored: string): boolean {
  const variants = [sql, sql.replaceAll('\r\n', '\n'), sql.replaceAll('\n', '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    // Before prisma-engines#1887 bytes below 0x10 were written without their leading zero.
    const rendered =
      stored.length !== 0 && stored.length !== 64
        ? [...digest].map((byte) => byte.toString(16)).join('')
        : digest.toString('hex');
    return rendered === stored;
  });
}

/** The Prisma adapter. */
export function prismaAdapter(): MigrationAdapter {
  return {
    tool: 'prisma',
    supportsDown: false,
    historyInTransaction: false,

    async discover(dir) {
      const files: MigrationFile[] = [];
      for (const name of await listDirs(dir)) {
        const sql = await readIfExists(join(dir, name, 'migration.sql'));
        if (sql === undefined) continue;
        const down = join(dir, name, 'down.sql');
        files.push({
          id: name,
          name,
          file: join(dir, name, 'migration.sql'),
          sql,
          kind: 'versioned',
          ...((await readIfExists(down)) !== undefined && { downFile: down }),
        });
      }
      return files;
    },

    async plan(client, files) {
      await client.query(`CREATE TABLE IF NOT EXISTS _prisma_migrations (
        id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL, finished_at timestamptz,
        migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
        started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
      const rows = (
        await client.query<{
          migration_name: string;
          checksum: string;
          finished_at: Date | null;
          rolled_back_at: Date | null;
        }>(
          'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY started_at',
        )
      ).rows;
      const plan: MigrationPlan = { pending: [], skipped: [], notes: [], blockers: [] };
      const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
      if (failed) {
        plan.blockers.push(
          `migration ${failed.migration_name} failed earlier (P3009): prisma migrate deploy refuses until it is resolved`,
        );
        return plan;
      }
      // A migration counts as applied when a row of it is not rolled back (apply_migrations.rs).
      const applied = new Map(
        rows.filter((row) => row.rolled_back_at === null).map((row) => [row.migration_name, row]),
      );
      for (const file of files) {
        const row = applied.get(file.id);
        if (!row) plan.pending.push(file);
        else if (!prismaChecksumMatches(file.sql, row.checksum)) {
          plan.notes.push(
            `${file.name} was modified after it was applied (checksum differs); prisma migrate deploy applies nothing for it, prisma migrate dev would ask to reset`,
          );
        }
      }
      return plan;
    },

    execution() {
      return 'one-message';
    },

    async before(client, file) {
      await client.query(
        'INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
        [randomUUID(), prismaChecksum(file.sql), file.id],
      );
    },

    async recordSuccess(client, file) {
      await client.query(
        'UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = applied_steps_count + 1 WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL',
        [file.id],
      );
    },

    async recordFailure(client, file, failure) {
      await client.query(
        'UPDATE _prisma_migrations SET logs = $2 WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL',
        [file.id, failure.message],
      );
    },
  };
}
