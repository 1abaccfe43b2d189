// Crash detection: a marker in the work dir says a run is in progress. A run that finds one while
// it holds the single-flight lock knows the earlier run died (SIGKILL, OOM, node crash) and
// cleans up after it; the marker is removed when a run ends in any orderly way.
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { workDirError } from '../infra/fs/work-dir-error.js';

export interface CrashedRun {
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
  /** The step it was in when it last said (`swap`: live staging may refuse connections). */
  phase?: string;
}

/**
 * The run's own directory in the work dir: the unpacked archive, pg_restore's `-L` lists, the
 * migrations checkout. Two targets may share a work dir and run at once: each run's files are its
 * own (a run that read another's data list would restore the rows of tables it masks unmasked).
 */
export function runScratchDir(workDir: string, runId: string): string {
  // No dots: a run id of `..` must not name the work dir itself.
  return join(workDir, 'runs', runId.replace(/[^A-Za-z0-9_-]+/g, '_'));
}

/** Files earlier versions left in the work dir itself while they worked; removed after a crash. */
const TEMPORARY = [
  'restore-data.list',
  'restore.list',
  'restore-post.list',
  'restore-events.list',
  'migrations-checkout',
];

/** Writes the marker; returns the earlier run's marker if it was still there (it crashed). */
export async function markRunning(
  workDir: string,
  runId: string,
  startedAt: Date,
  identity?: string,
): Promise<CrashedRun | undefined> {
  await mkdir(workDir, { recursive: true });
  const file = markerPath(workDir, identity);
  let crashed: CrashedRun | undefined;
  try {
    crashed = JSON.parse(await readFile(file, 'utf8')) as CrashedRun;
  } catch {
    crashed = undefined;
  }
  if (crashed) {
    for (const name of TEMPORARY) await rm(join(workDir, name), { recursive: true, force: true });
    await rm(runScratchDir(workDir, crashed.runId), { recursive: true, force: true });
  }
  const marker: CrashedRun = {
    runId,
    host: hostname(),
    pid: process.pid,
    startedAt: startedAt.toISOString(),
  };
  await writeFile(file, JSON.stringify(marker)).catch((error: unknown) => {
    throw workDirError(error, workDir);
  });
  return crashed;
}

/** Records the step the run is in, so the run after a crash knows what to repair. */
export async function markPhase(workDir: string, phase: string, identity?: string): Promise<void> {
  const file = markerPath(workDir, identity);
  const marker = JSON.parse(await readFile(file, 'utf8')) as CrashedRun;
  await writeFile(file, JSON.stringify({ ...marker, phase })).catch((error: unknown) => {
    throw workDirError(error, workDir);
  });
}

/** Removes the marker and the run's temporary files (its scratch dir when `runId` is given). */
export async function clearRunning(workDir: string, identity?: string, runId?: string): Promise<void> {
  if (runId !== undefined) {
    await rm(runScratchDir(workDir, runId), { recursive: true, force: true });
    // `runs` itself once no other run has its directory there (ENOTEMPTY otherwise: left).
    await rmdir(join(workDir, 'runs')).catch(() => undefined);
  } else for (const name of TEMPORARY) await rm(join(workDir, name), { recursive: true, force: true });
  await rm(markerPath(workDir, identity), { force: true });
}

/**
 * The marker of one target (`host:port/db`): two targets sharing a work dir each have their own,
 * so one's run is never taken for the other's crash.
 */
export function markerPath(workDir: string, identity?: string): string {
  if (identity === undefined) return join(workDir, 'run-in-progress.json');
  return join(workDir, `run-in-progress.${identity.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
}

/**
 * Runs fn with the marker written; `onCrashed` hears of an earlier run that died. The marker and
 * the temporary files are removed however fn ends (a crash of this process leaves them behind).
 */
export async function withCrashMarker<T>(
  workDir: string,
  run: { runId: string; startedAt: Date; identity: string },
  onCrashed: (crashed: CrashedRun) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const crashed = await markRunning(workDir, run.runId, run.startedAt, run.identity);
  if (crashed) onCrashed(crashed);
  try {
    return await fn();
  } finally {
    await clearRunning(workDir, run.identity, run.runId).catch(() => undefined);
  }
}
