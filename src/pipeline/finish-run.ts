// The end of every run, whatever happened before: the report step (trends, HTML page, e-mail
// address), the record written, the e-mail sent, the run stored in the history, the metrics
// pushed. Nothing here throws: a failure is a warning on the record.
import { ExitCode, toRefreshError } from '../errors.js';
import { ensureHistorySchema, loadRuns, saveRun } from '../history/history-store.js';
import { type Mailer, smtpMailer } from '../infra/mail/mailer.js';
import { pushRunMetrics } from '../infra/metrics/push-metrics.js';
import { parsePgUrl } from '../infra/pg/connection.js';
import { withClient } from '../infra/pg/with-client.js';
import type { RunRecord } from '../record/run-record.js';
import { scrubDeep } from '../secrets/secret-scrub.js';
import { headline } from '../stages/report/headline.js';
import { recipients, sendReport } from '../stages/report/send-report.js';
import { computeTrends } from '../stages/report/trends.js';
import { writeHtmlReport, writeRunRecord } from '../stages/report/write-record.js';
import type { RunContext } from './run-context.js';
import { applyError } from './run-error.js';
import type { StepRunner } from './step-runner.js';

export interface FinishOptions {
  /** The guarded target's identity: the history's key (absent when the guard refused). */
  identity?: string | undefined;
  mailer?: Mailer | undefined;
  mailRetry?: { attempts?: number; backoffMs?: number } | undefined;
}

/**
 * The report step renders the HTML page and addresses the e-mail; the record is then written
 * (holding every step, the report step included) and sent as it was written, so the e-mail's
 * attachment is the stored record. Only a failed send changes the record afterwards.
 */
export async function finishRun(
  ctx: RunContext,
  steps: StepRunner,
  record: RunRecord,
  options: FinishOptions,
): Promise<void> {
  const { config } = ctx;
  scrubDeep(record); // no password or quoted row value in the record, HTML, e-mail or history
  await steps
    .run('report', async () => {
      const trends = await historyTrends(ctx, record, options.identity);
      if (trends) record.trends = trends;
      record.report = { html: await writeHtmlReport(config.report.dir, record) };
      if (config.report.email) {
        record.report.email = { to: recipients(config.report.email, record), subject: headline(record) };
      }
    })
    .catch((error: unknown) => record.warnings.push(`report: ${(error as Error).message}`));
  stampEnd(ctx, record);
  await persist(ctx, record);
  await mailReport(ctx, record, options);
  await storeInHistory(ctx, record, options.identity);
  await pushRunMetrics(config, record, ctx.log);
}

/**
 * The end of a run that never started because another one holds the lock: its own record file
 * only — no report, no e-mail, no history, and latest.json keeps the running run's record.
 */
export async function finishUnstartedRun(ctx: RunContext, record: RunRecord): Promise<void> {
  stampEnd(ctx, record);
  await persist(ctx, record, { latest: false });
}

function stampEnd(ctx: RunContext, record: RunRecord): void {
  record.finishedAt = new Date().toISOString();
  record.durationMs = Date.parse(record.finishedAt) - ctx.startedAt.getTime();
  const usage = process.resourceUsage();
  record.resources = {
    peakRssBytes: usage.maxRSS * 1024,
    cpuUserMs: Math.round(usage.userCPUTime / 1000),
    cpuSystemMs: Math.round(usage.systemCPUTime / 1000),
  };
}

async function historyTrends(ctx: RunContext, record: RunRecord, identity: string | undefined) {
  const control = ctx.config.control;
  if (!control || !identity) return undefined;
  const history = await withClient(parsePgUrl(control.url), 'staging-refresh:history', async (client) => {
    await ensureHistorySchema(client);
    return loadRuns(client, identity, 8, record.startedAt);
  });
  return computeTrends(record, history);
}

async function persist(
  ctx: RunContext,
  record: RunRecord,
  options: { latest?: boolean } = {},
): Promise<void> {
  try {
    const file = await writeRunRecord(ctx.config.report.dir, record, options);
    ctx.log.info({ file, outcome: record.outcome }, 'run record written');
  } catch (error) {
    ctx.log.error({ err: error }, 'could not write the run record');
    if (record.exitCode === ExitCode.ok) applyError(record, toRefreshError(error));
  }
}

async function mailReport(ctx: RunContext, record: RunRecord, options: FinishOptions): Promise<void> {
  const email = ctx.config.report.email;
  if (!email || !record.report?.email) return;
  const mailer =
    options.mailer ?? smtpMailer({ url: email.smtp, user: email.user, password: email.password });
  const sent = await sendReport(mailer, email, record, options.mailRetry);
  if (sent.sent) {
    ctx.log.info({ to: sent.to, attempts: sent.attempts }, 'report e-mail sent');
    return;
  }
  ctx.log.warn({ error: sent.error, attempts: sent.attempts }, 'report e-mail could not be sent');
  record.warnings.push(`report e-mail not sent after ${sent.attempts} attempts: ${sent.error}`);
  record.report.email = {
    ...record.report.email,
    sent: false,
    attempts: sent.attempts,
    ...(sent.error && { error: sent.error }),
  };
  await persist(ctx, record);
}

async function storeInHistory(
  ctx: RunContext,
  record: RunRecord,
  identity: string | undefined,
): Promise<void> {
  const control = ctx.config.control;
  if (!control || !identity) return;
  await withClient(parsePgUrl(control.url), 'staging-refresh:history', async (client) => {
    await ensureHistorySchema(client);
    await saveRun(client, identity, record);
  }).catch((error: unknown) => {
    ctx.log.warn({ error: (error as Error).message }, 'could not store the run in the history');
  });
}
