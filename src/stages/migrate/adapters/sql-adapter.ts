// `sql`: plain .sql files applied in name order; history in a table of applied versions
// (default public.schema_migrations(version text primary key, applied_at timestamptz); an
// existing table of another shape works too: the version goes into `versionColumn`, the other
// columns take their defaults). Each file runs in one transaction with its history row, unless
// its first line is `-- staging-refresh:no-transaction` or it has its own BEGIN/COMMIT or a
// statement PostgreSQL refuses in a transaction (CREATE INDEX CONCURRENTLY, VACUUM, …): then
// each statement runs on its own, as psql -f would run it, and the row is written after.
// Down migrations: <name>.down.sql beside the file, or down/<name>.sql.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { ident, qualifiedName } from '../../../infra/pg/connection.js';
import {
  hasTransactionControl,
  type ParsedStatement,
  requiresNoTransaction,
} from '../../../sql/parse-sql.js';
import type { MigrationAdapter, MigrationFile, MigrationPlan } from './adapter.js';
import { byteOrder, listFiles, readIfExists, splitQualified } from './files.js';

/** First line `-- staging-refresh:no-transaction`: the file runs statement by statement, no transaction. */
export const NO_TRANSACTION_MARKER = /^\uFEFF?[ \t]*--[ \t]*staging-refresh:no-transaction[ \t]*(\r?\n|$)/;

/** The plain-SQL adapter over the given history table. */
export function sqlAdapter(
  historyTable = 'public.schema_migrations',
  versionColumn = 'version',
): MigrationAdapter {
  const { schema, table } = splitQualified(historyTable);
  const history = qualifiedName(schema, table);
  const version = ident(versionColumn);
  return {
    tool: 'sql',
    supportsDown: true,
    // In the migration's transaction when it has one; after its last statement when not.
    historyInTransaction: true,

    async discover(dir) {
      const names = await listFiles(dir);
      const ups = names.filter((name) => name.endsWith('.sql') && !name.endsWith('.down.sql'));
      const files: MigrationFile[] = [];
      for (const name of ups) {
        const stem = name.replace(/(\.up)?\.sql$/, '');
        const downCandidates = [join(dir, `${stem}.down.sql`), join(dir, 'down', `${stem}.sql`)];
        let downFile: string | undefined;
        for (const candidate of downCandidates)
          if ((await readIfExists(candidate)) !== undefined) downFile ??= candidate;
        files.push({
          id: stem,
          name: stem,
          file: join(dir, name),
          sql: await readFile(join(dir, name), 'utf8'),
          kind: 'versioned',
          ...(downFile && { downFile }),
        });
      }
      return files;
    },

    async plan(client, files) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${history} (${version} text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const applied = new Set(
        (
          await client.query<{ version: string }>(`SELECT ${version}::text AS version FROM ${history}`)
        ).rows.map((r) => r.version),
      );
      const latest = [...applied].sort(byteOrder).at(-1);
      const plan: MigrationPlan = { pending: [], skipped: [], notes: [], blockers: [] };
      for (const file of files) {
        if (applied.has(file.id)) continue;
        if (latest !== undefined && byteOrder(file.id, latest) < 0) {
          plan.notes.push(
            `${file.name} is pending but sorts before the latest applied migration ${latest} (out of order); it runs now`,
          );
        }
        plan.pending.push(file);
      }
      const known = new Set(files.map((file) => file.id));
      const unknown = [...applied].filter((version) => !known.has(version));
      if (unknown.length > 0)
        plan.notes.push(`applied but not in the migrations directory: ${unknown.join(', ')}`);
      return plan;
    },

    execution(file, statements: readonly ParsedStatement[]) {
      const own =
        NO_TRANSACTION_MARKER.test(file.sql) ||
        hasTransactionControl(statements) ||
        statements.some(requiresNoTransaction);
      return own ? 'autocommit' : 'transaction';
    },

    async recordSuccess(client: pg.Client, file) {
      await client.query(`INSERT INTO ${history} (${version}) VALUES ($1)`, [file.id]);
    },
  };
}
