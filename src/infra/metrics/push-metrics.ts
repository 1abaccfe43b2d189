// After a CronJob `run`: push the run's metrics to the Pushgateway, if one is configured.
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import type { RunRecord } from '../../record/run-record.js';
import { RunMetrics } from './run-metrics.js';

/** Pushes (pushAdd) the record's metrics; a failure is logged, never fatal. */
export async function pushRunMetrics(config: Config, record: RunRecord, log: Logger): Promise<boolean> {
  if (!config.metrics.pushgateway) return false;
  const metrics = new RunMetrics();
  metrics.observe(record);
  try {
    await metrics.push(config.metrics.pushgateway, config.metrics.job, record);
    return true;
  } catch (error) {
    log.warn({ error: (error as Error).message }, 'could not push metrics to the Pushgateway');
    return false;
  }
}
