// Connections are owned by withClient: opened, named, and always closed.
import pg from 'pg';
import { clientConfig, describeTarget, type PgTarget } from './connection.js';
import { wrapPgError } from './pg-errors.js';

/** Opens a connection, runs fn, always closes it. Connection failures become UnavailableError. */
export async function withClient<T>(
  target: PgTarget,
  applicationName: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(target, applicationName);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
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
