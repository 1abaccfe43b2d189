import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clearRunning,
  markerPath,
  markPhase,
  markRunning,
  newRunScratchDir,
} from '../../src/pipeline/crash-marker.js';

describe('crash marker', () => {
  it('two targets sharing a work dir do not take each other’s runs for crashes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'marker-'));
    const now = new Date();
    expect(await markRunning(dir, 'run-a', now, 'h:5432/a')).toBeUndefined();
    expect(await markRunning(dir, 'run-b', now, 'h:5432/b')).toBeUndefined();
    await clearRunning(dir, 'h:5432/b');
    // a's marker is still there: a later run of a (after a crash of run-a) finds it, with its phase.
    await markPhase(dir, 'swap', 'h:5432/a');
    expect(await markRunning(dir, 'run-a2', now, 'h:5432/a')).toMatchObject({
      runId: 'run-a',
      phase: 'swap',
    });
  });

  it('a crashed run of the same target is found and its temporary files are removed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'marker-'));
    await markRunning(dir, 'run-1', new Date(), 'h:5432/a');
    await writeFile(join(dir, 'restore.list'), 'x');
    expect((await markRunning(dir, 'run-2', new Date(), 'h:5432/a'))?.runId).toBe('run-1');
    await expect(
      import('node:fs/promises').then((fs) => fs.stat(join(dir, 'restore.list'))),
    ).rejects.toThrow();
  });

  it('each run has its own scratch dir: removed when it ends or after its crash, another run’s left alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'marker-'));
    // never outside runs/, and two runs with one id (started in the same second) get two
    expect(newRunScratchDir(dir, '..').startsWith(join(dir, 'runs', '_-'))).toBe(true);
    expect(newRunScratchDir(dir, 'same')).not.toBe(newRunScratchDir(dir, 'same'));
    const now = new Date();
    const scratch = { a: newRunScratchDir(dir, 'run-a'), b: newRunScratchDir(dir, 'run-b') };
    await markRunning(dir, 'run-a', now, 'h:5432/a', scratch.a);
    await markRunning(dir, 'run-b', now, 'h:5432/b', scratch.b);
    for (const [run, path] of Object.entries(scratch)) {
      await mkdir(path, { recursive: true });
      await writeFile(join(path, 'restore-data.list'), run);
    }
    // run-a crashed; the next run of target a removes its files, not b's (still running)
    expect((await markRunning(dir, 'run-a2', now, 'h:5432/a', newRunScratchDir(dir, 'run-a2')))?.runId).toBe(
      'run-a',
    );
    expect(await readdir(join(dir, 'runs'))).toEqual([basename(scratch.b)]);
    expect(await readFile(join(scratch.b, 'restore-data.list'), 'utf8')).toBe('b');
    await clearRunning(dir, 'h:5432/b', scratch.b);
    expect(await readdir(dir)).not.toContain('runs');
  });

  it('a marker an earlier version wrote (no scratch dir) is still recovered from', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'marker-'));
    await writeFile(
      markerPath(dir, 'h:5432/a'),
      JSON.stringify({ runId: 'old', host: 'h', pid: 1, startedAt: new Date().toISOString() }),
    );
    await mkdir(join(dir, 'unpacked'));
    expect((await markRunning(dir, 'new', new Date(), 'h:5432/a'))?.runId).toBe('old');
    expect(await readdir(dir)).not.toContain('unpacked');
  });
});
