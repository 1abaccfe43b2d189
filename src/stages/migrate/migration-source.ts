// Where the migrations come from: a directory, or a git repository cloned shallowly.
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MigrationsConfig } from '../../config/schema.js';
import { ConfigError, UnavailableError } from '../../errors.js';
import { runTool, ToolFailedError } from '../../infra/process/run-tool.js';

/** Returns the directory holding the migrations, cloning the repository first when configured. */
export async function migrationsDir(
  config: MigrationsConfig,
  workDir: string,
  signal: AbortSignal,
): Promise<string> {
  if (config.git) {
    const checkout = join(workDir, 'migrations-checkout');
    await rm(checkout, { recursive: true, force: true });
    await mkdir(workDir, { recursive: true });
    try {
      await runTool({
        file: 'git',
        args: [
          'clone',
          '--quiet',
          '--depth=1',
          '--single-branch',
          `--branch=${config.git.ref}`,
          '--',
          config.git.url,
          checkout,
        ],
        env: { GIT_TERMINAL_PROMPT: '0' },
        signal,
      });
    } catch (error) {
      if (!(error instanceof ToolFailedError)) throw error;
      throw new UnavailableError(
        `cannot clone migrations from ${redactGitUrl(config.git.url)} at ${config.git.ref}: ${error.stderrTail}`,
        {
          cause: error,
          hint: 'check migrations.git.url, the ref, and the credentials (a deploy key or a token in the environment)',
        },
      );
    }
    return join(checkout, config.git.path);
  }
  if (!config.dir)
    throw new ConfigError('migrations needs a dir or a git source', ['migrations: set dir or git']);
  const info = await stat(config.dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ConfigError(`migrations.dir ${config.dir} is not a directory`, [
      `migrations.dir: ${config.dir} does not exist`,
    ]);
  }
  return config.dir;
}

/** https://user:token@host/repo → https://host/repo */
export function redactGitUrl(url: string): string {
  return url.replace(/\/\/[^@/]+@/, '//');
}
