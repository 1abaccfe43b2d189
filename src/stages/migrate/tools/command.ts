// `command`: the application's own migration CLI with DATABASE_URL set (command-migration.ts).
// What it will run is known only when it runs: `plan` says so, and `lint` reads the *.sql files
// of the directory it is given (sqitch's deploy/, a Rails structure dump, …).
import { RunFailedError } from '../../../errors.js';
import { sqlAdapter } from '../adapters/sql-adapter.js';
import { runCommandMigration } from '../command-migration.js';
import { migrationsDir } from '../migration-source.js';
import { adapterLintSources, type SelfRunningTool } from './migration-tool.js';

/** Any migrator's CLI (rails db:migrate, alembic upgrade head, sqitch deploy). */
export const commandTool: SelfRunningTool<'command'> = {
  name: 'command',
  kind: 'runs-itself',
  layout: 'whatever migrations.command runs (lint: the *.sql files of the directory)',

  async run(input) {
    const { config } = input;
    const cwd =
      config.dir || config.git ? await migrationsDir(config, input.workDir, input.signal) : undefined;
    const record = await runCommandMigration(
      config,
      input.target,
      cwd,
      input.log,
      input.signal,
      input.pgOptions, // #22
    );
    return {
      migrations: [record],
      notes: [],
      ...(record.status === 'failed' && {
        failure: new RunFailedError(
          'migration-failed',
          `${record.name} failed: ${record.error?.message ?? 'unknown error'}`,
          {
            step: 'migrate',
            hint: 'fix the migration before deploying it; the live staging database was not replaced',
          },
        ),
      }),
    };
  },

  async pending() {
    return {
      pending: [],
      skipped: [],
      notes: ['tool: command decides what is pending when it runs; the plan cannot list it'],
      blockers: [],
    };
  },

  lintSources: (dir) => adapterLintSources(sqlAdapter(), dir),
};
