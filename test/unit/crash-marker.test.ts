import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearRunning, markPhase, markRunning } from '../../src/pipeline/crash-marker.js';

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
});
