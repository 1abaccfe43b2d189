// Single flight: one refresh per target at a time. An advisory lock held on a dedicated, named
// session for the whole run — in the control database when there is one, else in the target
// server's maintenance database. A second run exits 75, saying who holds it and since when.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { BusyError } from '../errors.js';
import type { PgTarget } from '../infra/pg/connection.js';
import { connect } from '../infra/pg/with-client.js';

/** A held lock; release() ends the session (and so the lock). */
export interface HeldLock {
  release(): Promise<void>;
}

/** Two int4 keys from the target identity, so different targets never block each other. */
export function lockKeys(identity: string): [number, number] {
  const digest = createHash('sha256').update(`staging-refresh:${identity}`).digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/** Takes the lock or throws BusyError naming the holder. */
export async function acquireRunLock(where: PgTarget, identity: string, runId: string): Promise<HeldLock> {
  const client = await connect(where, `staging-refresh:run:${runId}@${hostname()}`);
  const [high, low] = lockKeys(identity);
  try {
    const result = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [
      high,
      low,
    ]);
    if (!result.rows[0]?.ok) throw await busy(client, high, low, identity);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return { release: () => client.end().catch(() => undefined) };
}

async function busy(client: pg.Client, high: number, low: number, identity: string): Promise<BusyError> {
  const holder = await client.query<{
    application_name: string;
    backend_start: Date;
    client_addr: string | null;
  }>(
    `SELECT a.application_name, a.backend_start, host(a.client_addr) AS client_addr
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2`,
    [high, low],
  );
  const row = holder.rows[0];
  const who = row
    ? `${row.application_name.replace(/^staging-refresh:run:/, 'run ')}${row.client_addr ? ` (${row.client_addr})` : ''} since ${row.backend_start.toISOString()}`
    : 'another session';
  return new BusyError(`another refresh of ${identity} is running: ${who}`, {
    hint: 'wait for it to finish; if it died, its lock went with its connection, so just run again',
  });
}

/** Runs fn while holding the run lock; the lock's session is ended in every case. */
export async function withRunLock<T>(
  where: PgTarget,
  identity: string,
  runId: string,
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireRunLock(where, identity, runId);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
