// source.local: the newest file at a path, directory or glob; read where it lies, nothing fetched.
import { ExitCode } from '../../errors.js';
import { type BackupSource, newestBackupCheck } from '../backup-source.js';
import { locateLocal } from './locate-local.js';

/** A BackupSource over a local (or mounted) path, directory or glob. */
export function localSource(settings: { path: string }): BackupSource {
  return {
    description: settings.path,
    fetches: false,
    locate: () => locateLocal(settings.path),
    materialize: async (candidate) => ({ path: candidate.key }),
    readable: async (candidate) => candidate.key,
    label: (candidate) => candidate.key,
    doctor: () => newestBackupCheck(settings.path, () => locateLocal(settings.path), ExitCode.badData),
  };
}
