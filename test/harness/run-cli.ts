// Runs the real CLI as a child process, as a user would: the compiled `dist/cli.js` that the
// image ships (the integration project's global setup builds it first). Not the TypeScript
// source through tsx: its loader thread now and then kept a finished CLI from exiting on
// Node 24 (seen: a refused `run` still idle 13 minutes later), and it costs ~2 s per start.
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Starts `staging-refresh ...args`; the result never rejects (check exitCode). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): ResultPromise<{ reject: false; all: true }> {
  return execa(process.execPath, [CLI, ...args], {
    reject: false,
    all: true,
    // A CLI that never exits is ended (and reported as timed out) before the test's own limit.
    timeout: 100_000,
    env: { LOG_LEVEL: 'info', ...env },
  });
}
