// pino logger: JSON lines on stderr when it is not a TTY, human-readable when it is. stdout
// stays free for `--json` output. Secrets are kept out by construction (URLs are printed
// through redactUrl, passwords travel in PGPASSWORD); `redact` is the safety net for known keys.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { scrub } from '../secrets/secret-scrub.js';

export type { Logger };

/** Creates the process logger. */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const usePretty = options.pretty ?? process.stderr.isTTY === true;
  const base = {
    level,
    base: { app: 'staging-refresh' },
    // #15: whatever a migrator or the server printed, no configured secret reaches a log line.
    hooks: { streamWrite: scrub },
    redact: {
      paths: [
        'password',
        '*.password',
        'secret',
        '*.secret',
        'env.PGPASSWORD',
        '*.env.PGPASSWORD',
        'authorization',
      ],
      censor: '[redacted]',
    },
  };
  if (usePretty) {
    return pino(
      base,
      pretty({ destination: 2, sync: true, ignore: 'pid,hostname,app', translateTime: 'HH:MM:ss' }),
    );
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/** A logger that writes nothing, for library callers and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
