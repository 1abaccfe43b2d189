// Crash detection: a marker in the work dir says a run is in progress. A run that finds one while
// it holds the single-flight lock knows the earlier run died (SIGKILL, OOM, node crash) and
// cleans up after it; the marker is removed when a run ends in any orderly way.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { workDirError } from '../infra/fs/work-dir-error.js';

export interface CrashedRun {
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
}

/** Files a run leaves in the work dir while it works; removed after a crash. */
const TEMPORARY = ['restore-data.list', 'migrations-checkout'];

/** Writes the marker; returns the earlier run's marker if it was still there (it crashed). */
export async function markRunning(
  workDir: string,
  runId: string,
  startedAt: Date,
): Promise<CrashedRun | undefined> {
  await mkdir(workDir, { recursive: true });
  const file = join(workDir, 'run-in-progress.json');
  let crashed: CrashedRun | undefined;
  try {
    crashed = JSON.parse(await readFile(file, 'utf8')) as CrashedRun;
  } catch {
    crashed = undefined;
  }
  if (crashed) {
    for (const name of TEMPORARY) await rm(join(workDir, name), { recursive: true, force: true });
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

/** Removes the marker and the run's temporary files. */
export async function clearRunning(workDir: string): Promise<void> {
  for (const name of TEMPORARY) await rm(join(workDir, name), { recursive: true, force: true });
  await rm(join(workDir, 'run-in-progress.json'), { force: true });
}

/**
 * Runs fn with the marker written; `onCrashed` hears of an earlier run that died. The marker and
 * the temporary files are removed however fn ends (a crash of this process leaves them behind).
 */
export async function withCrashMarker<T>(
  workDir: string,
  run: { runId: string; startedAt: Date },
  onCrashed: (crashed: CrashedRun) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const crashed = await markRunning(workDir, run.runId, run.startedAt);
  if (crashed) onCrashed(crashed);
  try {
    return await fn();
  } finally {
    await clearRunning(workDir).catch(() => undefined);
  }
}
