// A newest backup older than source.maxAge means backups stopped: refuse it (exit 65).

import { BadBackupError } from '../errors.js';
import { formatDuration } from '../format/duration.js';
import type { BackupCandidate } from './backup-source.js';

/** Throws BadBackupError when the backup is older than maxAgeMs at `now`. */
export function checkBackupAge(backup: BackupCandidate, maxAgeMs: number, now: Date): number {
  const ageMs = now.getTime() - backup.lastModified.getTime();
  if (ageMs > maxAgeMs) {
    throw new BadBackupError(
      `newest backup ${backup.key} is ${formatDuration(ageMs)} old, older than source.maxAge (${formatDuration(maxAgeMs)})`,
      { hint: 'check that production backups are still being written, or raise source.maxAge on purpose' },
    );
  }
  return ageMs;
}
