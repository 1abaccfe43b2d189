// swap: one short transaction of renames makes `__next` the live database. Before it, the live
// database stops taking new connections and, after a grace period, its sessions are ended
// (ALTER DATABASE … RENAME fails while anyone is connected). Until the renames commit, the old
// live database is untouched; if they fail, it takes connections again.
import type pg from 'pg';
import { AbortedError } from '../../errors.js';
import { ident, type PgTarget } from '../../infra/pg/connection.js';
import { databaseNames } from '../../infra/pg/database-names.js';
import { databaseExists, dropDatabaseForce, sessionCount } from '../../infra/pg/databases.js';
import { withClient, withTransaction } from '../../infra/pg/with-client.js';
import type { Logger } from '../../log/logger.js';

export interface SwapInput {
  maintenance: PgTarget;
  live: string;
  keepPrevious: number;
  graceMs: number;
  log: Logger;
  /** Roles to grant access on the new live database. */
  grants: readonly { role: string; access: 'read' | 'write' }[];
  /** Connection to the new live database, for grants (after the rename). */
  connectLive: (fn: (client: pg.Client) => Promise<void>) => Promise<void>;
  /** Aborts the swap while it waits for sessions; live takes connections again. */
  signal?: AbortSignal;
}

export interface SwapResult {
  live: string;
  previous: string | null;
  dropped: string[];
  terminatedSessions: number;
  durationMs: number;
  /** Set when the renames committed but the grants failed: staging was replaced all the same. */
  grantsError?: string;
}

/** Renames `__next` → live and live → `__prev` (rotating older ones), dropping beyond keepPrevious. */
export async function swapDatabases(input: SwapInput): Promise<SwapResult> {
  const started = performance.now();
  const { live, log } = input;
  const next = databaseNames.next(live);
  const result = await withClient(input.maintenance, 'staging-refresh:swap', async (client) => {
    const dropped: string[] = [];
    const liveExists = await databaseExists(client, live);
    // The oldest generation kept is parked under __drop in the renames' transaction and dropped
    // only once they committed: a swap that fails or is killed leaves every generation in place.
    const oldest = databaseNames.previous(live, Math.max(input.keepPrevious, 1));
    const parked = dropName(live);
    if (await dropDatabaseForce(client, parked))
      log.warn({ database: parked }, 'dropped a leftover database');
    let terminatedSessions = 0;
    if (liveExists) {
      await client.query(`ALTER DATABASE ${ident(live)} ALLOW_CONNECTIONS false`);
      try {
        terminatedSessions = await endSessions(client, live, input.graceMs, log, input.signal);
        await renameAll(client, live, next, input.keepPrevious, oldest, parked);
      } catch (error) {
        await client.query(`ALTER DATABASE ${ident(live)} ALLOW_CONNECTIONS true`).catch(() => undefined);
        throw error;
      }
      if (await dropDatabaseForce(client, parked)) dropped.push(oldest);
    } else {
      await client.query(`ALTER DATABASE ${ident(next)} RENAME TO ${ident(live)}`);
    }
    if (liveExists && input.keepPrevious === 0) {
      const previous = databaseNames.previous(live, 1);
      if (await dropDatabaseForce(client, previous)) dropped.push(previous);
    }
    return {
      dropped,
      terminatedSessions,
      previous: liveExists && input.keepPrevious > 0 ? databaseNames.previous(live) : null,
    };
  });
  let grantsError: string | undefined;
  if (input.grants.length > 0) {
    await input
      .connectLive((client) => applyGrants(client, live, input.grants))
      .catch((error: unknown) => {
        grantsError = (error as Error).message;
      });
  }
  return {
    live,
    ...result,
    durationMs: Math.round(performance.now() - started),
    ...(grantsError !== undefined && { grantsError }),
  };
}

/** `<db>__drop`: the oldest generation between the renames and its DROP. */
export function dropName(live: string): string {
  return `${live}__drop`;
}

async function renameAll(
  client: pg.Client,
  live: string,
  next: string,
  keepPrevious: number,
  oldest: string,
  parked: string,
): Promise<void> {
  await withTransaction(client, async () => {
    if (await databaseExists(client, oldest))
      await client.query(`ALTER DATABASE ${ident(oldest)} RENAME TO ${ident(parked)}`);
    for (let generation = Math.max(keepPrevious, 1) - 1; generation >= 1; generation--) {
      const from = databaseNames.previous(live, generation);
      if (await databaseExists(client, from)) {
        await client.query(
          `ALTER DATABASE ${ident(from)} RENAME TO ${ident(databaseNames.previous(live, generation + 1))}`,
        );
      }
    }
    await client.query(`ALTER DATABASE ${ident(live)} RENAME TO ${ident(databaseNames.previous(live))}`);
    await client.query(`ALTER DATABASE ${ident(next)} RENAME TO ${ident(live)}`);
  });
}

/** Waits up to graceMs for sessions to leave, then terminates the rest; returns how many were ended. */
export async function endSessions(
  client: pg.Client,
  database: string,
  graceMs: number,
  log: Logger,
  signal?: AbortSignal,
): Promise<number> {
  const deadline = Date.now() + graceMs;
  let count = await sessionCount(client, database);
  if (count > 0)
    log.info({ database, sessions: count, graceMs }, 'waiting for sessions on the live database to end');
  while (count > 0 && Date.now() < deadline) {
    if (signal?.aborted) throw new AbortedError(`the swap was stopped while ${database} had sessions`);
    await sleep(250);
    count = await sessionCount(client, database);
  }
  if (count === 0) return 0;
  // Every backend on it goes (the rename waits for none), but only people's sessions are counted:
  // an autovacuum worker on the live database is ended too, and is nobody's session.
  const terminated = await client.query<{ client: boolean }>(
    `SELECT pg_terminate_backend(pid), backend_type = 'client backend' AS client
       FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
    [database],
  );
  const sessions = terminated.rows.filter((row) => row.client).length;
  log.warn(
    { database, sessions, background: terminated.rows.length - sessions },
    'terminated sessions on the live database for the swap',
  );
  const waitUntil = Date.now() + 5000;
  while ((await sessionCount(client, database)) > 0 && Date.now() < waitUntil) await sleep(50);
  return sessions;
}

/** GRANT statements for one role on the new live database, given its schemas. */
export function grantSql(
  database: string,
  schemas: readonly string[],
  grant: { role: string; access: 'read' | 'write' },
): string[] {
  const role = ident(grant.role);
  const tablePrivileges = grant.access === 'write' ? 'SELECT, INSERT, UPDATE, DELETE' : 'SELECT';
  return [
    `GRANT CONNECT ON DATABASE ${ident(database)} TO ${role}`,
    ...schemas.flatMap((schema) => [
      `GRANT USAGE ON SCHEMA ${ident(schema)} TO ${role}`,
      `GRANT ${tablePrivileges} ON ALL TABLES IN SCHEMA ${ident(schema)} TO ${role}`,
      `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${ident(schema)} TO ${role}`,
    ]),
  ];
}

async function applyGrants(client: pg.Client, database: string, grants: SwapInput['grants']): Promise<void> {
  const schemas = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1`,
  );
  const names = schemas.rows.map((row) => row.nspname);
  for (const grant of grants) for (const sql of grantSql(database, names, grant)) await client.query(sql);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
