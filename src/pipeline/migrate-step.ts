// The migrate step as the pipeline sees it: skipped without a migrations config, else the
// migration replay against `__next`.
import type { RefreshError } from '../errors.js';
import { parsePgUrl, targetIdentity } from '../infra/pg/connection.js';
import type { MigrationRecord, RehearsalRecord } from '../record/run-record.js';
import { migrate } from '../stages/migrate/migrate.js';
import type { RunContext } from './run-context.js';
import type { StepRunner } from './step-runner.js';

export interface MigrateStepResult {
  migrations: MigrationRecord[];
  notes: string[];
  /** Set when a migration failed: the run fails unless migrations.swapOnFailure. */
  failure?: RefreshError;
  /** #22: the staging server and the conditions of the timings. */
  rehearsal?: RehearsalRecord;
}

/** Runs pending migrations against `__next` (skipped when none are configured). */
export async function migrateStep(ctx: RunContext, steps: StepRunner): Promise<MigrateStepResult> {
  const config = ctx.config.migrations;
  if (!config) {
    steps.skip('migrate');
    return { migrations: [], notes: [] };
  }
  const result = await steps.run('migrate', () =>
    migrate({
      config,
      target: ctx.next,
      workDir: ctx.scratch,
      log: ctx.log,
      signal: ctx.signal,
      // #22: production's hardware and the calibration history, for estimates.
      production: ctx.config.production,
      history: ctx.config.control && {
        control: parsePgUrl(ctx.config.control.url),
        target: targetIdentity(ctx.live),
      },
    }),
  );
  if (result.failure) steps.markFailed('migrate');
  return result;
}
