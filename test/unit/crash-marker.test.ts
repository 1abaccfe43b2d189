import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearRunning, markPhase, markRunning, runScratchDir } from '../../src/pipeline/crash-marker.js';

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
    expect(runScratchDir(dir, '../../etc/x')).toBe(join(dir, 'runs', '_etc_x'));
    expect(runScratchDir(dir, '..')).toBe(join(dir, 'runs', '_'));
    const now = new Date();
    await markRunning(dir, 'run-a', now, 'h:5432/a');
    await markRunning(dir, 'run-b', now, 'h:5432/b');
    for (const run of ['run-a', 'run-b']) {
      await mkdir(runScratchDir(dir, run), { recursive: true });
      await writeFile(join(runScratchDir(dir, run), 'restore-data.list'), run);
    }
    // run-a crashed; the next run of target a removes its files, not b's (still running)
    expect((await markRunning(dir, 'run-a2', now, 'h:5432/a'))?.runId).toBe('run-a');
    expect(await readdir(join(dir, 'runs'))).toEqual(['run-b']);
    expect(await readFile(join(runScratchDir(dir, 'run-b'), 'restore-data.list'), 'utf8')).toBe('run-b');
    await clearRunning(dir, 'h:5432/b', 'run-b');
    expect(await readdir(dir)).not.toContain('runs');
  });
});
