// runRefresh: the product as a function. guard → locate → fetch → inspect → restore → migrate →
// verify → swap → report. It never throws: whatever happens becomes the run record, whose
// exitCode the CLI exits with. The live database changes only in the swap.
import { hostname } from 'node:os';
import { warmMasking } from '../anonymize/warm-masking.js';
import { configSecrets } from '../config/config-secrets.js';
import type { Config } from '../config/schema.js';
import { unpackDir } from '../dump/prepare-archive.js';
import { AbortedError, BusyError, ExitCode, RunFailedError } from '../errors.js';
import { ensureControlDatabase } from '../history/control-database.js';
import { withScratchDir } from '../infra/fs/with-scratch-dir.js';
import type { Mailer } from '../infra/mail/mailer.js';
import { describeTarget, parsePgUrl, withDatabase } from '../infra/pg/connection.js';
import { withClient } from '../infra/pg/with-client.js';
import { tuneHeapGrowth } from '../infra/process/heap-growth.js';
import type { Logger } from '../log/logger.js';
import { enableKeptEventTriggers } from '../neutralize/neutralize-database.js';
import { RUN_RECORD_SCHEMA_VERSION, type RunRecord } from '../record/run-record.js';
import { registerSecrets } from '../secrets/secret-scrub.js';
import { createSource } from '../sources/create-source.js';
import { warmParser } from '../sql/parse-sql.js';
import { guardTarget } from '../stages/guard/guard.js';
import { recoverInterruptedSwap } from '../stages/swap/recover-swap.js';
import { requireSessionRights } from '../stages/swap/session-rights.js';
import { TOOL_VERSION } from '../version.js';
import { markPhase, withCrashMarker } from './crash-marker.js';
import { finishRun, finishUnstartedRun } from './finish-run.js';
import { migrateStep } from './migrate-step.js';
import {
  archiveFacts,
  backupRecord,
  checkRestoredTables,
  inspectBackup,
  restoreBackup,
  swapIn,
  verifyNext,
} from './refresh-steps.js';
import { createRunContext, type RunContext } from './run-context.js';
import { applyError, runError } from './run-error.js';
import { withRunLock } from './single-flight.js';
import { StepRunner } from './step-runner.js';
import { withNextDatabase } from './with-next-database.js';

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
  const ctx = createRunContext(config, { ...options, startedAt: options.now?.() ?? new Date() });
  // What the record, the logs, the HTML and the e-mail must never show: the configured secrets.
  registerSecrets(configSecrets(config));
  const record = newRecord(ctx);
  const steps = new StepRunner(ctx.signal);
  record.steps = steps.steps;
  let identity: string | undefined;
  try {
    identity = await steps.run('guard', async () => guardTarget(config, ctx.live));
    const guarded = identity;
    // #21: the control database is created on first use (or the error names the statement to run).
    if (
      config.control &&
      (await ensureControlDatabase(lockHolder(ctx), config.target.maintenanceDb)) === 'created'
    )
      ctx.log.info({ database: lockHolder(ctx).database }, 'control database created');
    await withRunLock(lockHolder(ctx), guarded, ctx.runId, async () => {
      await withCrashMarker(
        config.workDir,
        { ...ctx, identity: guarded },
        (crashed) => {
          const message = `the previous run ${crashed.runId} (started ${crashed.startedAt} on ${crashed.host}) did not finish: it crashed or was killed${crashed.phase ? ` during the ${crashed.phase}` : ''}; its leftovers are removed`;
          record.warnings.push(message);
          record.recovered = {
            runId: crashed.runId,
            startedAt: crashed.startedAt,
            host: crashed.host,
            ...(crashed.phase && { phase: crashed.phase }),
          };
          ctx.log.warn(message);
        },
        () => refresh(ctx, steps, record, guarded),
      ).catch((error: unknown) => applyError(record, runError(error, ctx.signal)));
      await finishRun(ctx, steps, record, { ...options, identity: guarded });
    });
  } catch (error) {
    // Only the guard or the run lock get here: nothing of this run has started.
    applyError(record, runError(error, ctx.signal));
    if (error instanceof BusyError) await finishUnstartedRun(ctx, record);
    else await finishRun(ctx, steps, record, { ...options, identity });
  }
  return record;
}

/** The steps between the run lock and the report: each takes what the earlier ones produced. */
async function refresh(
  ctx: RunContext,
  steps: StepRunner,
  record: RunRecord,
  identity: string,
): Promise<void> {
  const { config, log } = ctx;
  // A swap or rollback killed half-way may have left live staging refusing connections.
  for (const repaired of await recoverInterruptedSwap(ctx.maintenance, ctx.live.database)) {
    record.warnings.push(repaired);
    log.warn(repaired);
  }
  // A role that could not end sessions at the swap is refused now, before any change.
  await withClient(ctx.maintenance, 'staging-refresh:preflight', requireSessionRights);
  const source = createSource(config.source);
  // Warmed while the backup is located and downloaded: the restore parses its post-data while
  // it masks (warmParser).
  warmParser();
  // And this thread's masking code, on made-up rows under the run's rules (warm-masking.ts),
  // until the restore begins.
  const warming = new AbortController();
  void warmMasking(config.anonymize, warming.signal).catch(() => undefined);
  try {
    await refreshSteps(ctx, steps, record, identity, source, () => warming.abort());
  } finally {
    warming.abort();
  }
}

/** From locate on; `warmed` is called when the restore begins. */
async function refreshSteps(
  ctx: RunContext,
  steps: StepRunner,
  record: RunRecord,
  identity: string,
  source: ReturnType<typeof createSource>,
  warmed: () => void,
): Promise<void> {
  const { config, log, signal } = ctx;
  // A restore streams its bytes outside the JavaScript heap; without this, V8 ran a full
  // collection every ~0.2 s of it (heap-growth.ts).
  tuneHeapGrowth();
  const candidate = await steps.run('locate', () => source.locate());
  const backup = backupRecord(ctx, candidate);
  record.backup = backup;
  const materialize = () => source.materialize(candidate, { workDir: config.workDir, log, signal });
  if (!source.fetches) steps.skip('fetch');
  const file = source.fetches ? await steps.run('fetch', materialize) : await materialize();
  if (file.download) backup.download = file.download;

  await withScratchDir(unpackDir(ctx.scratch), log, async (scratch) => {
    const archive = await steps.run('inspect', () =>
      inspectBackup(ctx, file.path, (inspected) => Object.assign(backup, archiveFacts(inspected))),
    );
    record.clientTools = archive.tools;
    await withNextDatabase(
      ctx,
      (warning) => record.warnings.push(warning),
      async (next) => {
        warmed();
        const restored = await steps.run('restore', () => restoreBackup(ctx, archive, next.created));
        await scratch.remove();
        record.restore = restored.record;
        record.anonymize = restored.anonymize;
        record.neutralized = restored.neutralized;
        for (const finding of restored.anonymize.findings) record.warnings.push(finding.message);
        record.warnings.push(...restored.warnings);
        await checkRestoredTables(ctx, restored, archive, (check) => record.verify.checks.push(check));

        const migrated = await migrateStep(ctx, steps, restored.productionSettings);
        record.migrations = migrated.migrations;
        if (migrated.notes.length > 0) record.migrationNotes = migrated.notes;
        if (migrated.rehearsal) record.rehearsal = migrated.rehearsal;
        // A signal during the migrations is an abort in the migrate step, not a failed check later.
        if (signal.aborted)
          throw new AbortedError('run aborted by signal during the migrations', { step: 'migrate' });

        await steps.run('verify', () =>
          verifyNext(ctx, restored, (checks) => {
            record.verify.checks.push(...checks);
          }),
        );
        if (migrated.failure && !config.migrations?.swapOnFailure) throw migrated.failure;
        if (migrated.failure)
          record.warnings.push(`swapped in despite a failed migration: ${migrated.failure.message}`);

        // Kept event triggers were disabled while the tool ran its own DDL; enabled again here.
        const neutralized = record.neutralized ?? [];
        if (neutralized.some((object) => object.kind === 'event-trigger' && object.action === 'kept'))
          await withClient(ctx.next, 'staging-refresh:neutralize', (client) =>
            enableKeptEventTriggers(client, neutralized),
          );
        await markPhase(config.workDir, 'swap', identity);
        record.swap = await steps.run('swap', () => swapIn(ctx));
        next.swappedIn();
        // The renames committed: failed grants do not undo that, and the record says so.
        if (record.swap.grantsError !== undefined)
          throw new RunFailedError(
            'grants-failed',
            `staging was replaced (${ctx.live.database} is the new database), but the grants failed: ${record.swap.grantsError}`,
            {
              step: 'swap',
              hint: 'fix target.grants (does every role exist?) and grant by hand, or run rollback',
            },
          );
        if (migrated.failure) applyError(record, migrated.failure);
      },
    );
  });
}

/** The record of a run that has just started: succeeded until something says otherwise. */
function newRecord(ctx: RunContext): RunRecord {
  const startedAt = ctx.startedAt.toISOString();
  return {
    schemaVersion: RUN_RECORD_SCHEMA_VERSION,
    runId: ctx.runId,
    outcome: 'succeeded',
    exitCode: ExitCode.ok,
    startedAt,
    finishedAt: startedAt,
    durationMs: 0,
    host: hostname(),
    toolVersion: TOOL_VERSION,
    target: {
      server: describeTarget(withDatabase(ctx.live, '')).replace(/\/$/, ''),
      database: ctx.live.database,
    },
    steps: [],
    migrations: [],
    verify: { checks: [] },
    warnings: [],
  };
}

/** The run lock lives in the control database when there is one, else in the maintenance database. */
function lockHolder(ctx: RunContext) {
  return ctx.config.control ? parsePgUrl(ctx.config.control.url) : ctx.maintenance;
}
