// Crash detection: a marker in the work dir says a run is in progress. A run that finds one while
// it holds the single-flight lock knows the earlier run died (SIGKILL, OOM, node crash) and
// cleans up after it; the marker is removed when a run ends in any orderly way.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { workDirError } from '../infra/fs/work-dir-error.js';

export interface CrashedRun {
  runId: string;
  host: string;
  pid: number;
  startedAt: string;
  /** The step it was in when it last said (`swap`: live staging may refuse connections). */
  phase?: string;
  /** The name of its scratch dir under `runs/`. */
  scratch?: string;
}

/**
 * The run's own directory in the work dir: the unpacked archive, pg_restore's `-L` lists, the
 * migrations checkout. Two targets may share a work dir and run at once: each run's files are its
 * own (a run that read another's data list would restore the rows of tables it masks unmasked).
 */
export function newRunScratchDir(workDir: string, runId: string): string {
  // No dots (a run id of `..` must not name the work dir), and random bits of its own: two runs
  // started in the same second may have drawn the same id.
  const name = `${runId.replace(/[^A-Za-z0-9_-]+/g, '_')}-${randomBytes(4).toString('hex')}`;
  return join(workDir, 'runs', name);
}

/** A crashed run's scratch dir, from the name its marker kept (only ever a child of `runs`). */
function crashedScratchDir(workDir: string, crashed: CrashedRun): string | undefined {
  return typeof crashed.scratch === 'string' && crashed.scratch !== ''
    ? join(workDir, 'runs', basename(crashed.scratch))
    : undefined;
}

/** Files earlier versions left in the work dir itself while they worked; removed after a crash. */
const TEMPORARY = [
  'restore-data.list',
  'restore.list',
  'restore-post.list',
  'restore-events.list',
  'migrations-checkout',
  'unpacked',
];

/** Writes the marker; returns the earlier run's marker if it was still there (it crashed). */
export async function markRunning(
  workDir: string,
  runId: string,
  startedAt: Date,
  identity?: string,
  /** This run's scratch dir (newRunScratchDir): kept in the marker, removed after a crash. */
  scratch?: string,
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
    const left = crashedScratchDir(workDir, crashed);
    if (left) await rm(left, { recursive: true, force: true });
  }
  const marker: CrashedRun = {
    runId,
    host: hostname(),
    pid: process.pid,
    startedAt: startedAt.toISOString(),
    ...(scratch && { scratch: basename(scratch) }),
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

/** Removes the marker and the run's temporary files (its scratch dir when given). */
export async function clearRunning(workDir: string, identity?: string, scratch?: string): Promise<void> {
  if (scratch !== undefined) {
    await rm(scratch, { recursive: true, force: true });
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
  run: { runId: string; startedAt: Date; identity: string; scratch: string },
  onCrashed: (crashed: CrashedRun) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const crashed = await markRunning(workDir, run.runId, run.startedAt, run.identity, run.scratch);
  if (crashed) onCrashed(crashed);
  try {
    return await fn();
  } finally {
    await clearRunning(workDir, run.identity, run.scratch).catch(() => undefined);
  }
}
