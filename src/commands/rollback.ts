// rollback: the guarded command around rollbackSwap, under the single-flight lock.
import type { Config } from '../config/schema.js';
import { parsePgUrl, withDatabase } from '../infra/pg/connection.js';
import { withClient } from '../infra/pg/with-client.js';
import type { Logger } from '../log/logger.js';
import { newRunId } from '../pipeline/run-context.js';
import { acquireRunLock } from '../pipeline/single-flight.js';
import { guardTarget } from '../stages/guard/guard.js';
import { recoverInterruptedSwap } from '../stages/swap/recover-swap.js';
import { rollbackSwap } from '../stages/swap/rollback.js';
import { requireSessionRights } from '../stages/swap/session-rights.js';

/** Puts the previous staging database back. */
export async function rollback(config: Config, log: Logger): Promise<string> {
  const live = parsePgUrl(config.target.url);
  const identity = await guardTarget(config, live);
  const maintenance = withDatabase(live, config.target.maintenanceDb);
  const lock = await acquireRunLock(
    config.control ? parsePgUrl(config.control.url) : maintenance,
    identity,
    `rollback-${newRunId()}`,
  );
  try {
    await recoverInterruptedSwap(maintenance, live.database); // #15: a killed swap or rollback
    await withClient(maintenance, 'staging-refresh:preflight', requireSessionRights); // #15
    const ended = await rollbackSwap(maintenance, live.database, config.target.swapGrace, log);
    return `${live.database} is the previous staging database again (${ended} session(s) ended); the replaced one is ${live.database}__prev`;
  } finally {
    await lock.release();
  }
}
