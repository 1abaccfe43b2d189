// The migrate step as the pipeline sees it: skipped without a migrations config, else the
// migration replay against `__next`.

import type { DatabaseSetting } from '../dump/database-options.js';
import type { RefreshError } from '../errors.js';
import { parsePgUrl, targetIdentity } from '../infra/pg/connection.js';
import type { MigrationRecord, RehearsalRecord } from '../record/run-record.js';
import { migrate } from '../stages/migrate/migrate.js';
import { EVALUATED_SETTINGS } from '../stages/migrate/rehearsal/session-settings.js';
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

/**
 * Runs pending migrations against `__next` (skipped when none are configured). Production's
 * database-level lock_timeout / statement_timeout (`production`: its ALTER DATABASE … SET) are
 * evaluated as migrations.settings' are, which win: the application's sessions start with them.
 */
export async function migrateStep(
  ctx: RunContext,
  steps: StepRunner,
  production: readonly DatabaseSetting[] = [],
): Promise<MigrateStepResult> {
  const configured = ctx.config.migrations;
  if (!configured) {
    steps.skip('migrate');
    return { migrations: [], notes: [] };
  }
  // The database's own, then the migrating role's there (more specific: what its sessions get).
  const own = new Set(Object.keys(configured.settings).map((key) => key.toLowerCase()));
  const timeouts = new Map<string, string>();
  for (const forRole of [false, true])
    for (const setting of production) {
      const name = setting.name.toLowerCase();
      if (forRole ? setting.role !== ctx.next.user : setting.role !== undefined) continue;
      if (EVALUATED_SETTINGS.has(name) && !own.has(name) && setting.text !== undefined)
        timeouts.set(name, setting.text);
    }
  const inherited = [...timeouts];
  const config = { ...configured, settings: { ...Object.fromEntries(inherited), ...configured.settings } };
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
  for (const [name, value] of inherited)
    result.notes.push(
      `${name} = ${value} is set on production's database (ALTER DATABASE / ALTER ROLE … IN DATABASE … SET): evaluated against each migration as migrations.settings' would be (takenWith says how)`,
    );
  return result;
}
