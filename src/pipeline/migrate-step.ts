// The migrate step as the pipeline sees it. Replaced by the migration replay stage.
import type { RefreshError } from '../errors.js';
import type { RunContext } from './run-context.js';
import type { MigrationRecord } from './run-record.js';
import type { StepRunner } from './step-runner.js';

export interface MigrateStepResult {
  migrations: MigrationRecord[];
  notes: string[];
  /** Set when a migration failed: the run fails unless migrations.swapOnFailure. */
  failure?: RefreshError;
}

/** Runs pending migrations against `__next` (skipped when none are configured). */
export async function migrateStep(ctx: RunContext, steps: StepRunner): Promise<MigrateStepResult> {
  if (!ctx.config.migrations) {
    steps.skip('migrate');
    return { migrations: [], notes: [] };
  }
  steps.skip('migrate');
  return { migrations: [], notes: ['migration replay is not implemented yet'] };
}
