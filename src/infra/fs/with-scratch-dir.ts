// A directory the run fills for a while (an unpacked backup can be as large as the database):
// emptied before use, removed as soon as the caller is done with it, and in every case at the end.
import { rm } from 'node:fs/promises';
import type { Logger } from '../../log/logger.js';

/** The scratch directory as fn sees it. */
export interface ScratchDir {
  readonly path: string;
  /** Removes it now (once); later calls do nothing. Never throws: a failure is logged. */
  remove(): Promise<void>;
}

/** Runs fn with `path` emptied first and removed when fn is done, if fn did not remove it earlier. */
export async function withScratchDir<T>(
  path: string,
  log: Logger,
  fn: (dir: ScratchDir) => Promise<T>,
): Promise<T> {
  let removed = false;
  const dir: ScratchDir = {
    path,
    async remove() {
      if (removed) return;
      removed = true;
      await rm(path, { recursive: true, force: true }).catch((error: unknown) =>
        log.warn({ path, error: (error as Error).message }, 'could not remove a scratch directory'),
      );
    },
  };
  await rm(path, { recursive: true, force: true });
  try {
    return await fn(dir);
  } finally {
    await dir.remove();
  }
}
