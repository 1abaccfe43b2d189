// Runs the real CLI (TypeScript source through tsx) as a child process, as a user would.
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** Starts `staging-refresh ...args`; the result never rejects (check exitCode). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): ResultPromise<{ reject: false; all: true }> {
  return execa(process.execPath, ['--import', 'tsx', CLI, ...args], {
    reject: false,
    all: true,
    env: { LOG_LEVEL: 'info', ...env },
  });
}
