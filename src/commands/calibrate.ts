// calibrate: a team feeds back how long a migration really took in production; its ratio to the
// latest staging timing of the same migration calibrates the estimates of later runs.

import type { Config } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { formatDuration, parseDuration } from '../format/duration.js';
import {
  calibrationFactor,
  ensureCalibrations,
  latestStagingTiming,
  saveCalibration,
} from '../history/calibrations.js';
import { ensureHistorySchema } from '../history/history-store.js';
import { parsePgUrl, targetIdentity } from '../infra/pg/connection.js';
import { withClient } from '../infra/pg/with-client.js';

/** Stores production's duration of `migration` and returns a sentence saying what the estimates use now. */
export async function calibrate(
  config: Config,
  migration: string,
  took: string,
  now: () => Date = () => new Date(),
): Promise<string> {
  const productionMs = parseDuration(took);
  if (productionMs === undefined || productionMs <= 0)
    throw new UsageError(`--took expects a duration like "4h", "35m" or "90s", got "${took}"`);
  if (!config.control)
    throw new UsageError(
      'calibrate needs control.url: the staging timings and the calibrations live in the history',
    );
  const target = targetIdentity(parsePgUrl(config.target.url));
  return withClient(parsePgUrl(config.control.url), 'staging-refresh:calibrate', async (client) => {
    await ensureHistorySchema(client);
    await ensureCalibrations(client);
    const staging = await latestStagingTiming(client, target, migration);
    if (!staging)
      throw new UsageError(`no applied run of migration ${migration} on ${target} in the history`, {
        hint: 'name it as the report does (e.g. 20261120_orders_reference_index), after a run that applied it',
      });
    await saveCalibration(client, target, {
      migration,
      stagingMs: staging.durationMs,
      productionMs,
      runId: staging.runId,
      recordedAt: now().toISOString(),
    });
    const factor = await calibrationFactor(client, target);
    const ratio = Math.round((productionMs / Math.max(1, staging.durationMs)) * 100) / 100;
    return `${migration}: ${formatDuration(productionMs)} in production against ${formatDuration(staging.durationMs)} on staging (run ${staging.runId}), ×${ratio}; estimates now use ×${factor?.factor} (median of ${factor?.samples} calibration${factor?.samples === 1 ? '' : 's'})`;
  });
}
