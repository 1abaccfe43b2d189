// Connections are owned by withClient: opened, named, and always closed.
import pg from 'pg';
import { whenAborted } from '../concurrency/when-aborted.js';
import { clientConfig, describeTarget, type PgTarget } from './connection.js';
import { wrapPgError } from './pg-errors.js';

/**
 * Opens a connection, runs fn, always closes it. Connection failures become UnavailableError.
 * With `signal`, an abort cancels the query running on it (the server only notices a closed
 * socket when the query ends: a 60 s check would hold a SIGTERM for 60 s).
 */
export async function withClient<T>(
  target: PgTarget,
  applicationName: string,
  fn: (client: pg.Client) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const client = await connect(target, applicationName);
  const stopFollowing = signal
    ? whenAborted(signal, () => void cancelQuery(target, client))
    : () => undefined;
  try {
    return await fn(client);
  } finally {
    stopFollowing();
    await client.end().catch(() => undefined);
  }
}

/** Cancels what `client` is running, from a connection of its own (pg_cancel_backend). */
async function cancelQuery(target: PgTarget, client: pg.Client): Promise<void> {
  // node-postgres keeps the backend pid it was told at startup on the client.
  const pid = (client as unknown as { processID?: number }).processID;
  if (pid === undefined) return;
  await withClient(target, 'staging-refresh:cancel', (other) =>
    other.query('SELECT pg_cancel_backend($1)', [pid]),
  ).catch(() => undefined);
}

/** Opens a named connection; the caller owns it. */
export async function connect(target: PgTarget, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(target, applicationName));
  // An idle client whose server goes away emits 'error'; without a listener node would crash.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw wrapPgError(error, 'connecting', describeTarget(target));
  }
  return client;
}

/** Runs fn inside BEGIN … COMMIT on `client`; any error rolls back and is rethrown. */
export async function withTransaction<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
