// Where backups come from. A backend (one folder under sources/) finds the newest backup and
// makes it a file the restore can read; the pipeline, plan and doctor see only this interface.
import type { Logger } from '../log/logger.js';
import type { BackupDownloadRecord } from '../record/run-record.js';

/** The newest backup that matched, wherever it lives. */
export interface BackupCandidate {
  /** The backend's kind (`s3`, `local`): the run record's `backup.source`. */
  source: 'local' | 's3';
  /** File path (local) or object key (S3). */
  key: string;
  bytes: number;
  lastModified: Date;
  etag?: string;
}

/** What materialize hands to inspect: a local file, and how it got there when it was fetched. */
export interface MaterializedBackup {
  path: string;
  /** Set when the backup was downloaded (or an earlier verified download reused). */
  download?: BackupDownloadRecord;
}

/** One of doctor's findings about the source. */
export interface SourceCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** Exit code to use when this check fails. */
  failCode: number;
}

/** What a run needs from a backup backend. */
export interface BackupSource {
  /** Where it looks, for messages and the plan (`s3://bucket at …`, a path or glob). */
  readonly description: string;
  /** The newest backup; BadBackupError when there is none. */
  locate(): Promise<BackupCandidate>;
  /** Whether materialize does any work (a download): the run records a skipped fetch step if not. */
  readonly fetches: boolean;
  /** The candidate as a verified local file (downloaded into the work dir, or where it already is). */
  materialize(
    candidate: BackupCandidate,
    context: { workDir: string; log: Logger; signal: AbortSignal },
  ): Promise<MaterializedBackup>;
  /** A local file of this candidate that can be read without fetching anything (plan), if any. */
  readable(candidate: BackupCandidate, workDir: string): Promise<string | undefined>;
  /** How the plan names the candidate. */
  label(candidate: BackupCandidate): string;
  /** doctor's checks: is the source reachable, does it hold a backup. Never throws. */
  doctor(): Promise<SourceCheck[]>;
}

/** doctor's check that a source holds a backup: the newest one where it looked, or why there is none. */
export async function newestBackupCheck(
  where: string,
  locate: () => Promise<BackupCandidate>,
  failCode: number,
): Promise<SourceCheck[]> {
  try {
    const newest = await locate();
    const detail = `${where}: newest backup ${newest.key} (${newest.bytes} bytes, ${newest.lastModified.toISOString()})`;
    return [{ name: 'backup source', ok: true, detail, failCode }];
  } catch (error) {
    return [{ name: 'backup source', ok: false, detail: (error as Error).message, failCode }];
  }
}
