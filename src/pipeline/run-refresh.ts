// runRefresh: the product as a function. locate → fetch → inspect → restore → migrate →
// verify → swap → report. It never throws: whatever happens becomes the run record, whose
// exitCode the CLI exits with. The live database changes only in the swap.
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';
import { prepareArchive, unpackDir } from '../dump/prepare-archive.js';
import {
  AbortedError,
  ExitCode,
  GuardError,
  type RefreshError,
  RunFailedError,
  toRefreshError,
} from '../errors.js';
import { ensureControlDatabase } from '../history/control-database.js';
import { ensureHistorySchema, loadRuns, saveRun } from '../history/history-store.js';
import type { Mailer } from '../infra/mail/mailer.js';
import { smtpMailer } from '../infra/mail/mailer.js';
import { describeTarget, parsePgUrl, withDatabase } from '../infra/pg/connection.js';
import { databaseNames } from '../infra/pg/database-names.js';
import { dropDatabaseForce } from '../infra/pg/databases.js';
import { withClient } from '../infra/pg/with-client.js';
import { s3ObjectStore } from '../infra/s3/object-store.js';
import type { Logger } from '../log/logger.js';
import { RUN_RECORD_SCHEMA_VERSION, type RunOutcome, type RunRecord } from '../record/run-record.js';
import { fetchBackup } from '../stages/fetch/fetch-backup.js';
import { guardTarget } from '../stages/guard/guard.js';
import { inspectArchive } from '../stages/inspect/inspect.js';
import { checkBackupAge } from '../stages/locate/check-age.js';
import { locateLocal } from '../stages/locate/locate-local.js';
import { locateS3 } from '../stages/locate/locate-s3.js';
import { headline } from '../stages/report/headline.js';
import { recipients, sendReport } from '../stages/report/send-report.js';
import { computeTrends } from '../stages/report/trends.js';
import { writeHtmlReport, writeRunRecord } from '../stages/report/write-record.js';
import { restoreArchive } from '../stages/restore/restore.js';
import { swapDatabases } from '../stages/swap/swap.js';
import { verifyDatabase } from '../stages/verify/verify.js';
import { TOOL_VERSION } from '../version.js';
import { clearRunning, markRunning } from './crash-marker.js';
import { migrateStep } from './migrate-step.js';
import { newRunId, type RunContext } from './run-context.js';
import { acquireRunLock, type HeldLock } from './single-flight.js';
import { StepRunner } from './step-runner.js';

export interface RunOptions {
  log: Logger;
  /** Delivers the report e-mail; default: SMTP from report.email. */
  mailer?: Mailer;
  mailRetry?: { attempts?: number; backoffMs?: number };
  signal?: AbortSignal;
  runId?: string;
  now?: () => Date;
}

/** Runs one refresh end to end and returns its record (also written to report.dir). */
export async function runRefresh(config: Config, options: RunOptions): Promise<RunRecord> {
  const startedAt = options.now?.() ?? new Date();
  const signal = options.signal ?? new AbortController().signal;
  const live = parsePgUrl(config.target.url);
  const ctx: RunContext = {
    runId: options.runId ?? newRunId(startedAt),
    config,
    log: options.log.child({ runId: options.runId }),
    signal,
    live,
    next: withDatabase(live, databaseNames.next(live.database)),
    maintenance: withDatabase(live, config.target.maintenanceDb),
    startedAt,
  };
  const record: RunRecord = {
    schemaVersion: RUN_RECORD_SCHEMA_VERSION,
    runId: ctx.runId,
    outcome: 'succeeded',
    exitCode: ExitCode.ok,
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    durationMs: 0,
    host: hostname(),
    toolVersion: TOOL_VERSION,
    target: { server: describeTarget(withDatabase(live, '')).replace(/\/$/, ''), database: live.database },
    steps: [],
    migrations: [],
    verify: { checks: [] },
    warnings: [],
  };
  const steps = new StepRunner(signal);
  record.steps = steps.steps;
  let nextCreated = false;
  /** Where inspect unpacks directory dumps and gzipped archives: emptied when the restore is done. */
  const unpacked = { dir: unpackDir(config.workDir), done: false };
  let runLock: HeldLock | undefined;
  let identity: string | undefined;

  try {
    identity = await steps.run('guard', async () => guardTarget(config, live));
    // #21: the control database is created on first use (or the error names the statement to run).
    if (
      config.control &&
      (await ensureControlDatabase(parsePgUrl(config.control.url), config.target.maintenanceDb)) === 'created'
    )
      ctx.log.info({ database: parsePgUrl(config.control.url).database }, 'control database created');
    const lockAt = config.control ? parsePgUrl(config.control.url) : ctx.maintenance;
    runLock = await acquireRunLock(lockAt, identity as string, ctx.runId);
    const crashed = await markRunning(config.workDir, ctx.runId, startedAt);
    if (crashed) {
      const message = `the previous run ${crashed.runId} (started ${crashed.startedAt} on ${crashed.host}) did not finish: it crashed or was killed; its leftovers are removed`;
      record.warnings.push(message);
      record.recovered = { runId: crashed.runId, startedAt: crashed.startedAt, host: crashed.host };
      ctx.log.warn(message);
    }
    const s3 = config.source.s3;
    const store = s3 ? s3ObjectStore(s3) : undefined;
    const candidate = await steps.run('locate', () =>
      store && s3 ? locateS3(store, s3.prefix, s3.keyPattern) : locateLocal(config.source.local?.path ?? ''),
    );
    const ageMs = checkBackupAge(candidate, config.source.maxAge, startedAt);
    record.backup = {
      key: candidate.key,
      bytes: candidate.bytes,
      format: 'unknown',
      lastModified: candidate.lastModified.toISOString(),
      ageMs,
      source: candidate.source,
      ...(candidate.etag && { etag: candidate.etag }),
    };
    ctx.log.info({ backup: candidate.key, bytes: candidate.bytes }, 'newest backup located');
    let archive = candidate.key;
    if (store && s3) {
      const fetched = await steps.run('fetch', () =>
        fetchBackup({
          store,
          candidate,
          workDir: config.workDir,
          partSize: s3.partSize,
          concurrency: s3.concurrency,
          log: ctx.log,
          signal,
        }),
      );
      archive = fetched.path;
      record.backup.download = {
        path: fetched.path,
        reused: fetched.reused,
        verifiedBy: fetched.verifiedBy,
        durationMs: fetched.durationMs,
        bytesPerSecond: fetched.bytesPerSecond,
        retries: fetched.retries,
      };
    } else {
      steps.skip('fetch');
    }
    const prepared = await steps.run('inspect', async () => {
      await rm(unpacked.dir, { recursive: true, force: true });
      const ready = await prepareArchive(archive, config.workDir, ctx.log, signal);
      return { ready, inspected: await inspectArchive(ready, signal) };
    });
    const { inspected } = prepared;
    record.backup.format = inspected.format;
    if (inspected.compression) record.backup.compression = inspected.compression;
    if (inspected.toc.dumpVersion) record.backup.dumpVersion = inspected.toc.dumpVersion;
    if (inspected.toc.serverVersion) record.backup.serverVersion = inspected.toc.serverVersion;

    const restored = await steps.run('restore', () =>
      restoreArchive({
        archive: prepared.ready.path,
        format: prepared.ready.format,
        compression: prepared.ready.compression,
        listing: inspected.listing,
        entries: inspected.toc.entries,
        config,
        next: ctx.next,
        maintenance: ctx.maintenance,
        log: ctx.log,
        signal,
        onCreated: () => {
          nextCreated = true;
        },
      }),
    );
    await removeUnpacked(unpacked, ctx.log);
    record.restore = restored.record;
    record.anonymize = restored.anonymize;
    for (const finding of restored.anonymize.findings) record.warnings.push(finding.message);

    const migrate = await migrateStep(ctx, steps);
    record.migrations = migrate.migrations;
    if (migrate.notes.length > 0) record.migrationNotes = migrate.notes;

    record.verify.checks = await steps.run('verify', () =>
      verifyDatabase({
        next: ctx.next,
        archiveTables: restored.tables ?? inspected.tables,
        checks: config.verify.checks,
        leakSamples: restored.samples,
      }),
    );
    const failedChecks = record.verify.checks.filter((check) => check.status === 'failed');
    if (failedChecks.length > 0) {
      throw new RunFailedError(
        'verify-failed',
        `verify failed: ${failedChecks.map((c) => `${c.name}: ${c.message}`).join('; ')}`,
        {
          step: 'verify',
          hint: 'the live staging database was not replaced',
        },
      );
    }
    if (migrate.failure && !config.migrations?.swapOnFailure) throw migrate.failure;
    if (migrate.failure)
      record.warnings.push(`swapped in despite a failed migration: ${migrate.failure.message}`);

    record.swap = await steps.run('swap', () =>
      swapDatabases({
        maintenance: ctx.maintenance,
        live: live.database,
        keepPrevious: config.target.keepPrevious,
        graceMs: config.target.swapGrace,
        log: ctx.log,
        grants: config.target.grants,
        connectLive: (fn) => withClient(live, 'staging-refresh:grants', fn),
      }),
    );
    nextCreated = false;
    if (migrate.failure) applyError(record, migrate.failure);
  } catch (error) {
    applyError(
      record,
      signal.aborted
        ? new AbortedError('run aborted by signal', { cause: error, step: toRefreshError(error).step })
        : toRefreshError(error),
    );
  } finally {
    await removeUnpacked(unpacked, ctx.log);
    if (nextCreated) await dropNext(ctx, record);
    if (runLock) await clearRunning(config.workDir).catch(() => undefined);
  }

  // The report step renders the HTML page and addresses the e-mail; the record is then written
  // (holding every step, the report step included) and sent as it was written, so the e-mail's
  // attachment is the stored record. Only a failed send changes the record afterwards.
  await steps
    .run('report', async () => {
      if (config.control && identity) {
        const history = await withClient(
          parsePgUrl(config.control.url),
          'staging-refresh:history',
          async (client) => {
            await ensureHistorySchema(client);
            return loadRuns(client, identity as string, 8, record.startedAt);
          },
        );
        const trends = computeTrends(record, history);
        if (trends) record.trends = trends;
      }
      record.report = { html: await writeHtmlReport(config.report.dir, record) };
      if (config.report.email) {
        record.report.email = { to: recipients(config.report.email, record), subject: headline(record) };
      }
    })
    .catch((error: unknown) => record.warnings.push(`report: ${(error as Error).message}`));
  record.finishedAt = new Date().toISOString();
  record.durationMs = Date.parse(record.finishedAt) - startedAt.getTime();
  const usage = process.resourceUsage();
  record.resources = {
    peakRssBytes: usage.maxRSS * 1024,
    cpuUserMs: Math.round(usage.userCPUTime / 1000),
    cpuSystemMs: Math.round(usage.systemCPUTime / 1000),
  };
  await persist(ctx, record);
  const email = config.report.email;
  if (email && record.report?.email) {
    const mailer =
      options.mailer ?? smtpMailer({ url: email.smtp, user: email.user, password: email.password });
    const sent = await sendReport(mailer, email, record, options.mailRetry);
    if (sent.sent) {
      ctx.log.info({ to: sent.to, attempts: sent.attempts }, 'report e-mail sent');
    } else {
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
  }
  if (config.control && identity) {
    await withClient(parsePgUrl(config.control.url), 'staging-refresh:history', async (client) => {
      await ensureHistorySchema(client);
      await saveRun(client, identity as string, record);
    }).catch((error: unknown) => {
      ctx.log.warn({ error: (error as Error).message }, 'could not store the run in the history');
    });
  }
  await runLock?.release();
  return record;
}

async function persist(ctx: RunContext, record: RunRecord): Promise<void> {
  try {
    const file = await writeRunRecord(ctx.config.report.dir, record);
    ctx.log.info({ file, outcome: record.outcome }, 'run record written');
  } catch (error) {
    ctx.log.error({ err: error }, 'could not write the run record');
    if (record.exitCode === ExitCode.ok) applyError(record, toRefreshError(error));
  }
}

function applyError(record: RunRecord, error: RefreshError): void {
  record.outcome = outcomeFor(error);
  record.exitCode = error.exitCode;
  record.error = {
    code: error.code,
    message: error.message,
    step: error.step,
    ...(error.hint && { hint: error.hint }),
  };
}

function outcomeFor(error: RefreshError): RunOutcome {
  if (error instanceof AbortedError) return 'aborted';
  if (error instanceof GuardError) return 'refused';
  return 'failed';
}

/** Drops the half-built `__next`; the live database is never touched here. */
async function dropNext(ctx: RunContext, record: RunRecord): Promise<void> {
  try {
    await withClient(ctx.maintenance, 'staging-refresh:cleanup', (client) =>
      dropDatabaseForce(client, ctx.next.database),
    );
    ctx.log.info(
      { database: ctx.next.database },
      'dropped the unfinished database; live staging is unchanged',
    );
  } catch (error) {
    const message = `could not drop ${ctx.next.database}: ${(error as Error).message}; the next run removes it`;
    record.warnings.push(message);
    ctx.log.warn(message);
  }
}

/** Removes what was unpacked for the restore (it can be as large as the database), once. */
async function removeUnpacked(unpacked: { dir: string; done: boolean }, log: Logger): Promise<void> {
  if (unpacked.done) return;
  unpacked.done = true;
  await rm(unpacked.dir, { recursive: true, force: true }).catch((error: unknown) =>
    log.warn({ path: unpacked.dir, error: (error as Error).message }, 'could not remove an unpacked backup'),
  );
}
