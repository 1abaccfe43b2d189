// `node-pg-migrate`: its own runner on the new database, one migration at a time, observed
// (node-pg-migrate-migration.ts). `lint` renders each JS migration's SQL with node-pg-migrate's
// own MigrationBuilder, without a database.
import { readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MigrationBuilder, runner } from 'node-pg-migrate';
import { RunFailedError } from '../../../errors.js';
import type { MigrationPlan } from '../adapters/adapter.js';
import { listFiles } from '../adapters/files.js';
import { migrationsDir } from '../migration-source.js';
import { runNodePgMigrate } from '../node-pg-migrate-migration.js';
import type { LintSource, SelfRunningTool } from './migration-tool.js';

const SCRIPT = new Set(['.js', '.mjs', '.cjs', '.sql']);

/** node-pg-migrate's runner and pgmigrations table. */
export const nodePgMigrateTool: SelfRunningTool<'node-pg-migrate'> = {
  name: 'node-pg-migrate',
  kind: 'runs-itself',
  layout: '<timestamp>_<name>.js|.mjs|.cjs|.sql exporting up/down (run by node-pg-migrate itself)',

  async run(input) {
    const dir = await migrationsDir(input.config, input.workDir, input.signal);
    const result = await runNodePgMigrate(input.config, input.target, dir, input.log, input.pgOptions); // #22 pgOptions
    const failed = result.migrations.find((m) => m.status === 'failed');
    const reason =
      result.blocker ??
      (failed && `migration ${failed.name} failed: ${failed.error?.message ?? 'unknown error'}`);
    return {
      migrations: result.migrations,
      notes: [...result.notes, ...(result.blocker ? [result.blocker] : [])],
      ...(reason && {
        failure: new RunFailedError(result.blocker ? 'migrations-blocked' : 'migration-failed', reason, {
          step: 'migrate',
          hint: 'fix the migration before deploying it; the live staging database was not replaced',
        }),
      }),
    };
  },

  async pending(client, dir, config) {
    const plan: MigrationPlan = { pending: [], skipped: [], notes: [], blockers: [] };
    if (!dir) return plan;
    try {
      const names = await runner({
        dbClient: client,
        dir,
        migrationsTable: config.historyTable ?? 'pgmigrations',
        checkOrder: true,
        direction: 'up',
        dryRun: true,
        noLock: true,
        log: () => undefined,
      });
      plan.pending = names.map((migration) => ({
        id: migration.name,
        name: migration.name,
        file: migration.path,
        sql: '',
        kind: 'versioned',
      }));
    } catch (error) {
      plan.blockers.push(`node-pg-migrate refuses to migrate: ${(error as Error).message}`);
    }
    return plan;
  },

  async lintSources(dir) {
    const sources: LintSource[] = [];
    for (const name of await listFiles(dir)) {
      const extension = extname(name);
      if (!SCRIPT.has(extension)) continue;
      const file = join(dir, name);
      const rendered = extension === '.sql' ? sqlUp(await readFile(file, 'utf8')) : await renderUp(file);
      sources.push({
        file,
        name: basename(name, extension),
        sql: rendered.sql,
        mode: () => (rendered.transaction ? 'transaction' : 'autocommit'),
      });
    }
    return sources;
  },
};

/** The up part of a node-pg-migrate SQL migration (before a `-- Down Migration` comment). */
function sqlUp(text: string): { sql: string; transaction: boolean } {
  const down = text.search(/^\s*--[\s-]*down\s+migration/im);
  return { sql: down === -1 ? text : text.slice(0, down), transaction: true };
}

/** The SQL a JS migration's `up` builds, from node-pg-migrate's MigrationBuilder. */
async function renderUp(file: string): Promise<{ sql: string; transaction: boolean }> {
  const loaded = (await import(pathToFileURL(file).href)) as {
    up?: (pgm: MigrationBuilder) => unknown;
    shorthands?: ConstructorParameters<typeof MigrationBuilder>[1];
  };
  const refuse = () => {
    throw new Error('the migration queries the database (pgm.db): lint renders SQL without one');
  };
  const db = { query: refuse, select: refuse } as unknown as ConstructorParameters<
    typeof MigrationBuilder
  >[0];
  const pgm = new MigrationBuilder(db, loaded.shorthands, false, console);
  await loaded.up?.(pgm);
  return { sql: pgm.getSqlSteps().join('\n'), transaction: pgm.isUsingTransaction() };
}
