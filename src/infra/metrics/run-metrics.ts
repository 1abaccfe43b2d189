// Prometheus metrics from run records: served by `serve` at /metrics and pushed to a
// Pushgateway after CronJob runs. The last-success gauge only moves on success, so an alert on
// its age catches a refresh that silently stopped working.
import { Gauge, Pushgateway, Registry } from 'prom-client';
import type { RunRecord } from '../../record/run-record.js';

/** Gauges for one process. */
export class RunMetrics {
  readonly registry = new Registry();
  private readonly outcome = this.gauge(
    'staging_refresh_last_run_outcome',
    'Outcome of the last run (1 for the outcome it had)',
    ['outcome'],
  );
  private readonly exitCode = this.gauge('staging_refresh_last_run_exit_code', 'Exit code of the last run');
  private readonly start = this.gauge(
    'staging_refresh_last_run_start_timestamp_seconds',
    'Start of the last run, unix seconds',
  );
  private readonly duration = this.gauge(
    'staging_refresh_last_run_duration_seconds',
    'Wall time of the last run',
  );
  private readonly success = this.gauge(
    'staging_refresh_last_success_timestamp_seconds',
    'End of the last successful run, unix seconds',
  );
  private readonly steps = this.gauge(
    'staging_refresh_step_duration_seconds',
    'Duration of each step of the last run',
    ['step'],
  );
  private readonly migrations = this.gauge(
    'staging_refresh_migration_duration_seconds',
    'Duration of each pending migration in the last run',
    ['migration', 'verdict'],
  );
  private readonly blocked = this.gauge(
    'staging_refresh_migration_writes_blocked_seconds',
    'Longest measured write blocking per migration',
    ['migration'],
  );
  private readonly restored = this.gauge('staging_refresh_restored_bytes', 'Size of the restored database');
  private readonly running = this.gauge('staging_refresh_running', '1 while a refresh runs');

  private gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  setRunning(running: boolean): void {
    this.running.set(running ? 1 : 0);
  }

  /** Records a finished run. */
  observe(record: RunRecord): void {
    this.outcome.reset();
    for (const outcome of ['succeeded', 'failed', 'aborted', 'refused'])
      this.outcome.set({ outcome }, outcome === record.outcome ? 1 : 0);
    this.exitCode.set(record.exitCode);
    this.start.set(Date.parse(record.startedAt) / 1000);
    this.duration.set(record.durationMs / 1000);
    if (record.outcome === 'succeeded') this.success.set(Date.parse(record.finishedAt) / 1000);
    this.steps.reset();
    for (const step of record.steps) this.steps.set({ step: step.name }, step.durationMs / 1000);
    this.migrations.reset();
    this.blocked.reset();
    for (const migration of record.migrations) {
      this.migrations.set(
        { migration: migration.name, verdict: migration.verdict },
        migration.durationMs / 1000,
      );
      this.blocked.set(
        { migration: migration.name },
        Math.max(0, ...migration.blocking.map((b) => b.writesBlockedMs)) / 1000,
      );
    }
    if (record.restore) this.restored.set(record.restore.bytes);
  }

  /**
   * Adds these metrics to a Pushgateway group (pushAdd: metrics not pushed keep their values).
   * After a run that did not succeed the last-success gauge is left out, so the gateway keeps
   * the time of the last real success instead of being reset.
   */
  async push(url: string, job: string, record: RunRecord): Promise<void> {
    if (record.outcome !== 'succeeded')
      this.registry.removeSingleMetric('staging_refresh_last_success_timestamp_seconds');
    await new Pushgateway(url, { timeout: 10_000 }, this.registry).pushAdd({ jobName: job });
  }
}
