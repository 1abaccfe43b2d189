// The steps of a refresh as the pipeline calls them: each takes the run context and what earlier
// steps produced, calls its stage, and returns its part of the run record.
import { type PreparedArchive, prepareArchive } from '../dump/prepare-archive.js';
import { AbortedError, RunFailedError } from '../errors.js';
import { withPgBinDir } from '../infra/pg/pg-bin.js';
import { withClient } from '../infra/pg/with-client.js';
import type { BackupRecord, ClientToolsRecord, RunRecord, VerifyCheckRecord } from '../record/run-record.js';
import type { BackupCandidate } from '../sources/backup-source.js';
import { checkBackupAge } from '../sources/check-age.js';
import { chooseClientTools, clientCandidates, noClientTools } from '../stages/inspect/client-tools.js';
import { type InspectResult, inspectArchive } from '../stages/inspect/inspect.js';
import { type RestoreResult, restoreArchive } from '../stages/restore/restore.js';
import { swapDatabases } from '../stages/swap/swap.js';
import { checkArchiveTables } from '../stages/verify/archive-tables.js';
import { verifyDatabase } from '../stages/verify/verify.js';
import type { RunContext } from './run-context.js';

/** The backup's part of the record, once located and checked for age. */
export function backupRecord(ctx: RunContext, candidate: BackupCandidate): BackupRecord {
  const ageMs = checkBackupAge(candidate, ctx.config.source.maxAge, ctx.startedAt);
  ctx.log.info({ backup: candidate.key, bytes: candidate.bytes }, 'newest backup located');
  return {
    key: candidate.key,
    bytes: candidate.bytes,
    format: 'unknown',
    lastModified: candidate.lastModified.toISOString(),
    ageMs,
    source: candidate.source,
    ...(candidate.etag && { etag: candidate.etag }),
  };
}

/** An archive pg_restore can read (unpacked into the scratch dir if need be), and what it holds. */
export interface InspectedBackup {
  ready: PreparedArchive;
  inspected: InspectResult;
  /** The client tools to restore it with (client-tools.ts). */
  tools: ClientToolsRecord;
}

/**
 * inspect: prepares and lists the archive (with the newest client tools installed), then chooses
 * the tools that restore it into the staging server and checks the server takes their preamble.
 * `listed` gets what the listing found before that choice can fail.
 */
export async function inspectBackup(
  ctx: RunContext,
  path: string,
  listed: (inspected: InspectResult) => void,
): Promise<InspectedBackup> {
  const ready = await prepareArchive(path, ctx.scratch, ctx.log, ctx.signal);
  const candidates = await clientCandidates(process.env, ctx.signal);
  if (candidates.length === 0) throw noClientTools();
  const inspected = await withPgBinDir(candidates[0]?.dir, () => inspectArchive(ready, ctx.signal));
  listed(inspected);
  const tools = await withClient(ctx.maintenance, 'staging-refresh:inspect', (client) =>
    chooseClientTools(client, ready, inspected.toc, candidates, ctx.signal),
  );
  ctx.log.info({ pgRestore: tools.version, dir: tools.dir, reason: tools.reason }, 'client tools chosen');
  return { ready, inspected, tools };
}

/** What inspect adds to the backup's record. */
export function archiveFacts(inspected: InspectResult): Partial<BackupRecord> {
  return {
    format: inspected.format,
    ...(inspected.compression && { compression: inspected.compression }),
    ...(inspected.toc.dumpVersion && { dumpVersion: inspected.toc.dumpVersion }),
    ...(inspected.toc.serverVersion && { serverVersion: inspected.toc.serverVersion }),
  };
}

/** restore: builds `__next` from the archive; `created` is called once the database exists. */
export function restoreBackup(
  ctx: RunContext,
  backup: InspectedBackup,
  created: () => void,
): Promise<RestoreResult> {
  return withPgBinDir(backup.tools.dir, () =>
    restoreArchive({
      archive: backup.ready.path,
      format: backup.ready.format,
      compression: backup.ready.compression,
      listing: backup.inspected.listing,
      entries: backup.inspected.toc.entries,
      config: ctx.config,
      next: ctx.next,
      maintenance: ctx.maintenance,
      scratch: ctx.scratch,
      log: ctx.log,
      signal: ctx.signal,
      onCreated: created,
    }),
  );
}

/** verify: checks `__next`; throws RunFailedError (after the checks are recorded) when one failed. */
export async function verifyNext(
  ctx: RunContext,
  restored: RestoreResult,
  record: (checks: VerifyCheckRecord[]) => void,
): Promise<void> {
  // #17: after the migrations, what they left: the configured checks and the no-leak check on
  // masked columns that still exist (archive tables were checked right after the restore).
  const checks = await verifyDatabase({
    next: ctx.next,
    checks: ctx.config.verify.checks,
    leakSamples: restored.samples,
    signal: ctx.signal,
  });
  record(checks);
  // A check cancelled by SIGTERM failed because of the signal, not because of the database.
  if (ctx.signal.aborted) throw new AbortedError('verify was stopped', { step: 'verify' });
  const failed = checks.filter((check) => check.status === 'failed');
  if (failed.length > 0) {
    throw new RunFailedError(
      'verify-failed',
      `verify failed: ${failed.map((c) => `${c.name}: ${c.message}`).join('; ')}`,
      {
        step: 'verify',
        hint: 'the live staging database was not replaced',
      },
    );
  }
}

/**
 * #17: every table the archive had data for is in `__next` — right after the restore, before
 * the migrations, so a pending DROP TABLE or RENAME is a release, not a lost table.
 */
export async function checkRestoredTables(
  ctx: RunContext,
  restored: RestoreResult,
  backup: InspectedBackup,
  record: (check: VerifyCheckRecord) => void,
): Promise<void> {
  const check = await checkArchiveTables(ctx.next, restored.tables ?? backup.inspected.tables);
  record(check);
  if (check.status === 'failed') {
    throw new RunFailedError('verify-failed', `verify failed: ${check.name}: ${check.message}`, {
      step: 'restore',
      hint: 'the live staging database was not replaced',
    });
  }
}

/** swap: `__next` becomes live, live becomes `__prev`. */
export function swapIn(ctx: RunContext): Promise<NonNullable<RunRecord['swap']>> {
  const target = ctx.config.target;
  return swapDatabases({
    signal: ctx.signal,
    maintenance: ctx.maintenance,
    live: ctx.live.database,
    keepPrevious: target.keepPrevious,
    graceMs: target.swapGrace,
    log: ctx.log,
    grants: target.grants,
    connectLive: (fn) => withClient(ctx.live, 'staging-refresh:grants', fn),
  });
}
