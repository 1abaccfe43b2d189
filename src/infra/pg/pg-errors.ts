// SQLSTATEs and socket errors mapped to the tool's errors in exactly one place.
import { isConnectionLoss, RefreshError, RunFailedError, UnavailableError } from '../../errors.js';

/** A node-postgres error as far as we read it. */
export interface PgErrorFields {
  code?: string;
  message: string;
  position?: string;
  detail?: string;
  hint?: string;
  where?: string;
}

/** True when the error is lock_timeout expiring (55P03). */
export function isLockTimeout(error: unknown): boolean {
  return (error as PgErrorFields | undefined)?.code === '55P03';
}

/** True when a statement was cancelled (statement_timeout or pg_cancel_backend): 57014. */
export function isQueryCanceled(error: unknown): boolean {
  return (error as PgErrorFields | undefined)?.code === '57014';
}

/** Wraps a pg/socket error as a RefreshError naming what we were doing and where. */
export function wrapPgError(error: unknown, doing: string, where: string): RefreshError {
  if (error instanceof RefreshError) return error;
  const fields = error as PgErrorFields;
  const message = fields?.message ?? String(error);
  if (isConnectionLoss(fields?.code, message)) {
    const auth = fields?.code?.startsWith('28');
    return new UnavailableError(`${doing}: cannot reach PostgreSQL at ${where}: ${message}`, {
      cause: error,
      hint: auth
        ? 'check the user and the password (PGPASSWORD or the *_FILE secret)'
        : 'check that the server is up, the host and port are right and this machine may connect',
    });
  }
  const sqlstate = fields?.code ? ` (SQLSTATE ${fields.code})` : '';
  return new RunFailedError('postgres', `${doing} on ${where}: ${message}${sqlstate}`, { cause: error });
}
