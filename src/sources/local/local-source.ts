// source.local: the newest file at a path, directory or glob; read where it lies, nothing fetched.
import { ExitCode } from '../../errors.js';
import type { BackupSource } from '../backup-source.js';
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
    async doctor() {
      try {
        const newest = await locateLocal(settings.path);
        return [
          {
            name: 'backup source',
            ok: true,
            detail: `${settings.path}: newest backup ${newest.key} (${newest.bytes} bytes, ${newest.lastModified.toISOString()})`,
            failCode: ExitCode.badData,
          },
        ];
      } catch (error) {
        return [
          { name: 'backup source', ok: false, detail: (error as Error).message, failCode: ExitCode.badData },
        ];
      }
    },
  };
}
