// The one place that turns an error into output and an exit code.
import { ConfigError, RefreshError, toRefreshError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { scrub } from '../secrets/secret-scrub.js';

/** Prints the error for people (stderr) and returns its exit code. */
export function reportError(error: unknown, log?: Logger): number {
  const refreshError = error instanceof RefreshError ? error : toRefreshError(error);
  const lines = [`staging-refresh: ${refreshError.message}`];
  if (refreshError.hint) lines.push(`  what to do: ${refreshError.hint}`);
  if (log && !(refreshError instanceof ConfigError)) log.debug({ err: error }, 'error details');
  process.stderr.write(`${scrub(lines.join('\n'))}\n`); // #15
  return refreshError.exitCode;
}
