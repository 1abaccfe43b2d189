// Ctrl-C on `npm run demo` leaves nothing behind: the demo runs as a user starts it (its own
// cluster, S3 server and temp dirs, under a TMPDIR of its own), gets SIGINT mid-way, and must
// exit 130 with no process of its left running and its TMPDIR empty.
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** What is left in `dir`, but tsx's own compile cache (tsx-<uid>), which is not the demo's. */
async function leftIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !/^tsx-\d+$/.test(name));
}

/** Command lines of every process on the machine that mention `text`. */
async function processesMentioning(text: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((line) => line.includes(text) && !line.includes('ps -eo'));
}

describe('npm run demo interrupted', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function interruptAt(marker: string, delayMs: number) {
    const temp = await mkdtemp(join(tmpdir(), 'demo-interrupt-'));
    dirs.push(temp);
    await chmod(temp, 0o755); // as root the cluster runs as postgres, which must reach its dir
    const demo = execa(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--rows', '30000'], {
      cwd: ROOT,
      env: { TMPDIR: temp, FORCE_COLOR: '0' },
      all: true,
      reject: false,
    });
    let output = '';
    const reached = new Promise<void>((resolveReached, rejectReached) => {
      demo.all?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(marker)) resolveReached();
      });
      void demo.then(() => rejectReached(new Error(`the demo ended before "${marker}":\n${output}`)));
    });
    await reached;
    // While the demo is busy its own processes run under TMPDIR: the cluster at least.
    expect(await processesMentioning(temp)).not.toEqual([]);
    await new Promise((resolveDelay) => setTimeout(resolveDelay, delayMs));
    const signalledAt = Date.now();
    demo.kill('SIGINT');
    const result = await demo;
    return { temp, result, output, stopMs: Date.now() - signalledAt };
  }

  it('while generating the database: exits 130, no postgres or S3 server left, TMPDIR empty', async () => {
    const { temp, result, output, stopMs } = await interruptAt('generating a production-like database', 500);
    expect(result.exitCode, result.all).toBe(130);
    expect(output).toContain('SIGINT: stopping what was started');
    expect(await processesMentioning(temp)).toEqual([]);
    expect(await leftIn(temp)).toEqual([]);
    expect(stopMs).toBeLessThan(60_000);
  });

  it('while the CLI runs: the CLI is stopped first, then everything else; TMPDIR empty', async () => {
    const { temp, result, output } = await interruptAt('running the real CLI', 1500);
    expect(result.exitCode, result.all).toBe(130);
    expect(output).not.toContain('the run exited 0');
    expect(await processesMentioning(temp)).toEqual([]);
    expect(await leftIn(temp)).toEqual([]);
  });
});
