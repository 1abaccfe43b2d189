// Free-space preflight for the work dir: fail before writing, with the numbers, not halfway with ENOSPC.
import { statfs } from 'node:fs/promises';
import { LocalIoError } from '../../errors.js';

/** Throws LocalIoError when `dir` cannot hold `bytes` of `what` plus a margin (5%, at least 64 MiB). */
export async function ensureFreeSpace(dir: string, bytes: number, what: string): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  const needed = bytes + Math.max(64 * 1024 * 1024, Math.ceil(bytes * 0.05));
  if (free < needed) {
    throw new LocalIoError(
      `no space in ${dir}: ${what} needs ${mib(needed)} MiB (with margin), ${mib(free)} MiB are free`,
      {
        hint: 'give the work dir a bigger volume (deploy: the ephemeral volume size) or free space',
      },
    );
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
