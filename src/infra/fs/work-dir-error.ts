// Errors of writes in the work dir, turned into what the user needs to read.
import { LocalIoError } from '../../errors.js';

/** A failed write in the work dir, naming it (a write through a descriptor carries no path). */
export function workDirError(error: unknown, workDir: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new LocalIoError(`no space left in ${workDir}: ${(error as Error).message}`, {
      cause: error,
      hint: 'give workDir a bigger volume or free space; the live staging database was not touched',
    });
  }
  return error as Error;
}

/** Did writing a local file fail (full disk, quota, read-only or failing volume)? */
export function isLocalWriteError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EIO';
}
