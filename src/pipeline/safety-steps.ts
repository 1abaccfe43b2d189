// The pipeline's safety call sites of #15, kept in one file so run-refresh stays a list of steps:
// what happens before any change, just before the swap, and just after it.
import { AbortedError, RunFailedError } from '../errors.js';
import { withClient } from '../infra/pg/with-client.js';
import { enableKeptEventTriggers } from '../neutralize/neutralize-database.js';
import type { RunRecord } from '../record/run-record.js';
import { recoverInterruptedSwap } from '../stages/swap/recover-swap.js';
import { requireSessionRights } from '../stages/swap/session-rights.js';
import { markPhase } from './crash-marker.js';
import type { RunContext } from './run-context.js';

/**
 * Before any change: live staging left refusing connections by a killed swap or rollback takes
 * them again, and a role that could not end sessions at the swap is refused (exit 77) now.
 */
export async function beforeAnyChange(ctx: RunContext, warn: (message: string) => void): Promise<void> {
  for (const repaired of await recoverInterruptedSwap(ctx.maintenance, ctx.live.database)) {
    warn(repaired);
    ctx.log.warn(repaired);
  }
  await withClient(ctx.maintenance, 'staging-refresh:preflight', requireSessionRights);
}

/** A signal during the migrations is an abort in the migrate step, not a failed check later. */
export function stopIfAborted(ctx: RunContext, step: string): void {
  if (ctx.signal.aborted) throw new AbortedError(`run aborted by signal during the ${step}`, { step });
}

/** Just before the swap: kept event triggers run again, and the crash marker says "swap". */
export async function beforeSwap(ctx: RunContext, record: RunRecord, identity: string): Promise<void> {
  const neutralized = record.neutralized ?? [];
  if (neutralized.some((object) => object.kind === 'event-trigger' && object.action === 'kept'))
    await withClient(ctx.next, 'staging-refresh:neutralize', (client) =>
      enableKeptEventTriggers(client, neutralized),
    );
  await markPhase(ctx.config.workDir, 'swap', identity);
}

/** After the renames committed: grants that failed are recorded as what they are. */
export function afterSwap(ctx: RunContext, swap: NonNullable<RunRecord['swap']>): void {
  if (swap.grantsError === undefined) return;
  throw new RunFailedError(
    'grants-failed',
    `staging was replaced (${ctx.live.database} is the new database), but the grants failed: ${swap.grantsError}`,
    { step: 'swap', hint: 'fix target.grants (does every role exist?) and grant by hand, or run rollback' },
  );
}
