// source.local: the newest file matching a path, directory or glob.
import { stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { BadBackupError } from '../../errors.js';
import type { BackupCandidate } from '../backup-source.js';

/** Newest regular file at `pattern` (a file, a directory, or a glob), by modification time. */
export async function locateLocal(pattern: string): Promise<BackupCandidate> {
  const info = await stat(pattern).catch(() => undefined);
  const paths = info?.isFile()
    ? [pattern]
    : await glob(info?.isDirectory() ? `${escapeGlob(pattern)}/*` : pattern, {
        absolute: true,
        onlyFiles: true,
      });
  const files = await Promise.all(paths.map(async (path) => ({ path, info: await stat(path) })));
  const newest = files.sort((a, b) => b.info.mtimeMs - a.info.mtimeMs)[0];
  if (!newest) {
    throw new BadBackupError(`no backup found at ${pattern}`, {
      hint: 'check source.local.path: a file, a directory, or a glob such as /backups/*.dump',
    });
  }
  return { source: 'local', key: newest.path, bytes: newest.info.size, lastModified: newest.info.mtime };
}

function escapeGlob(path: string): string {
  return path.replace(/[*?[\]{}()!]/g, '\\$&');
}
