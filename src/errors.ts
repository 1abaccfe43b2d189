// The error model: every failure the user can see is a RefreshError with a stable code, the
// sysexits exit code from DESIGN.md, a hint saying what to do, and the cause underneath.

/** Exit codes (sysexits), so a Kubernetes podFailurePolicy can tell failures apart. */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  usage: 64,
  badData: 65,
  unavailable: 69,
  ioError: 74,
  tempFail: 75,
  refused: 77,
  config: 78,
  terminated: 143,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface RefreshErrorOptions {
  /** What the user should do about it. */
  hint?: string;
  cause?: unknown;
  /** Pipeline step the error happened in; filled by the pipeline when missing. */
  step?: string;
}

/** Base class of every error the tool reports; never thrown directly. */
export abstract class RefreshError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  step: string | undefined;

  constructor(message: string, options: RefreshErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
    this.step = options.step;
  }
}

/** Bad command-line usage (exit 64). */
export class UsageError extends RefreshError {
  readonly code = 'usage';
  readonly exitCode = ExitCode.usage;
}

/** Corrupt, truncated or stale backup; checksum mismatch (exit 65). */
export class BadBackupError extends RefreshError {
  readonly code = 'bad-backup';
  readonly exitCode = ExitCode.badData;
}

/** A service could not be reached: S3, PostgreSQL, SMTP (exit 69). */
export class UnavailableError extends RefreshError {
  readonly code = 'unavailable';
  readonly exitCode = ExitCode.unavailable;
}

/**
 * This machine lacks the PostgreSQL client tools this backup and this staging server need
 * (exit 69, as an unreachable service: `doctor` names what to install).
 */
export class ClientToolsError extends RefreshError {
  readonly code: string;
  readonly exitCode = ExitCode.unavailable;
  /** `code` names the mismatch where one has its own (`pg-restore-too-old`). */
  constructor(message: string, options: RefreshErrorOptions & { code?: string } = {}) {
    super(message, options);
    this.code = options.code ?? 'client-tools-mismatch';
  }
}

/** Local I/O: work dir full or unwritable (exit 74). */
export class LocalIoError extends RefreshError {
  readonly code = 'local-io';
  readonly exitCode = ExitCode.ioError;
}

/** Another refresh holds the single-flight lock (exit 75). */
export class BusyError extends RefreshError {
  readonly code = 'busy';
  readonly exitCode = ExitCode.tempFail;
}

/** The guard refused the target (exit 77). */
export class GuardError extends RefreshError {
  readonly code = 'guard';
  readonly exitCode = ExitCode.refused;
}

/** Invalid configuration (exit 78). */
export class ConfigError extends RefreshError {
  readonly code = 'config';
  readonly exitCode = ExitCode.config;
  /** Every problem found, each with the key path it is about. */
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = [], options: RefreshErrorOptions = {}) {
    super(problems.length > 0 ? `${message}\n  - ${problems.join('\n  - ')}` : message, options);
    this.problems = problems;
  }
}

/** The run itself failed: a migration, a restore step or a check (exit 1). */
export class RunFailedError extends RefreshError {
  readonly code: string;
  readonly exitCode = ExitCode.runFailed;
  constructor(code: string, message: string, options: RefreshErrorOptions = {}) {
    super(message, options);
    this.code = code;
  }
}

/** Stopped by SIGTERM/SIGINT (exit 143). */
export class AbortedError extends RefreshError {
  readonly code = 'aborted';
  readonly exitCode = ExitCode.terminated;
}

const LOCAL_IO_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EMFILE']);
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ECONNRESET',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Does this error mean a server could not be reached or went away? Socket errors, SQLSTATE
 * class 08 (connection exception), 57P01-57P03 (shutdown, crash, cannot connect now), class 28
 * (login refused) and 53300 (too many connections). The one place this is decided.
 */
export function isConnectionLoss(code: string | undefined, message: string): boolean {
  if (code === undefined)
    return /timeout expired|Connection terminated|server closed the connection|encountered a connection error and is not queryable/i.test(
      message,
    );
  return (
    SOCKET_CODES.has(code) ||
    code.startsWith('08') ||
    /^57P0[1-3]$/.test(code) ||
    code.startsWith('28') ||
    code === '53300'
  );
}

/** Turns anything thrown into a RefreshError; unknown errors become a failed run. */
export function toRefreshError(error: unknown): RefreshError {
  if (error instanceof RefreshError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (
    isConnectionLoss(code, message) &&
    (code !== undefined || /Connection terminated|server closed|not queryable/i.test(message))
  ) {
    return new UnavailableError(`lost a server connection: ${message}`, {
      cause: error,
      hint: 'check the servers; the live staging database was not touched and the next run starts over',
    });
  }
  if (code && LOCAL_IO_CODES.has(code)) {
    const path = (error as NodeJS.ErrnoException).path;
    return new LocalIoError(
      `${code === 'ENOSPC' || code === 'EDQUOT' ? 'no space left' : 'cannot write'}${path ? ` in ${path}` : ''}: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'give workDir more space or fix its permissions; the live staging database was not touched',
      },
    );
  }
  return new RunFailedError('internal', message, { cause: error });
}
