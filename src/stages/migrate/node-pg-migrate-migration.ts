// migrations.tool: node-pg-migrate — run through its programmatic API one migration at a time
// (count: 1), on a connection of ours so its backend can be observed. node-pg-migrate writes its
// own `pgmigrations` table, checks the order and takes its own advisory lock, as in a deploy.
// singleTransaction is on, as in its CLI: a migration runs between BEGIN and COMMIT unless it
// calls pgm.noTransaction(); whether it did is read from the server's transaction status while
// its statements ran. The CLI puts *all* pending migrations in one transaction; replayed one at a
// time, each is measured on its own — the record's notes say what that changes.
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { MigrationsConfig } from '../../config/schema.js';
import { formatDuration } from '../../format/duration.js';
import { clientConfig, type PgTarget } from '../../infra/pg/connection.js';
import { connect } from '../../infra/pg/with-client.js';
import type { Logger } from '../../log/logger.js';
import type { SeenStatement } from '../../observe/activity-sampler.js';
import { LockTracker } from '../../observe/lock-tracker.js';
import { pollEvery, snapshotLocks } from '../../observe/sampler.js';
import type { MigrationRecord } from '../../record/run-record.js';
import type { BlockingObservationOptions } from './blocking-observation.js';
import { startExternalBlockingObservation } from './blocking-observation.js';
import {
  type ExternalObservation,
  externalMigrationRecord,
  lockRecordsOf,
  probeOptionsOf,
} from './command-migration.js';

export interface NodePgMigrateResult {
  migrations: MigrationRecord[];
  /** Set when node-pg-migrate refused to start (order check, a failed lock, a broken file). */
  blocker?: string;
  /** What the replay does differently from `node-pg-migrate up`. */
  notes: string[];
}

/** Runs every pending node-pg-migrate migration, one by one, observing each. */
export async function runNodePgMigrate(
  config: MigrationsConfig,
  target: PgTarget,
  dir: string,
  log: Logger,
  /** #22: production's session settings, as startup options of the tool's connection. */
  pgOptions?: string,
): Promise<NodePgMigrateResult> {
  // Named unlike our own sessions, so the activity sampler sees it as the tool's.
  const client = new pg.Client({
    ...clientConfig(target, 'node-pg-migrate'),
    ...(pgOptions && { options: pgOptions }),
  });
  client.on('error', () => undefined);
  await client.connect();
  const migrationsTable = config.historyTable ?? 'pgmigrations';
  const options = {
    dbClient: client,
    dir,
    migrationsTable,
    checkOrder: true,
    singleTransaction: true,
    log: () => undefined,
  };
  const migrations: MigrationRecord[] = [];
  const notes = (): string[] =>
    migrations.filter((m) => m.transactional).length > 1
      ? [
          `node-pg-migrate up (--single-transaction, its CLI's default) runs these ${migrations.length} migrations in one transaction (one that calls pgm.noTransaction() commits it and opens the next): each one's locks are held until that transaction commits, and a failure rolls all of it back; the replay ran and measured each in a transaction of its own`,
        ]
      : [];
  try {
    for (;;) {
      let next: string | undefined;
      try {
        next = (await runner({ ...options, direction: 'up', count: 1, dryRun: true }))[0]?.name;
      } catch (error) {
        return {
          migrations,
          notes: notes(),
          blocker: `node-pg-migrate refuses to migrate: ${(error as Error).message}`,
        };
      }
      if (!next) return { migrations, notes: notes() };
      const name = next;
      const observed = await observeClient(
        client,
        target,
        async () => {
          await runner({ ...options, direction: 'up', count: 1 });
        },
        { intervalMs: config.observer.interval, probes: probeOptionsOf(config) }, // #18
      );
      const down =
        config.rollback === 'rehearse' && !observed.error
          ? await rehearseDown(client, target, options)
          : undefined;
      const record = externalMigrationRecord(
        name,
        observed,
        config,
        down ?? { status: 'present', durationMs: 0 },
      );
      log.info(
        { migration: name, durationMs: record.durationMs, verdict: record.verdict },
        `${name}: ${record.status} in ${formatDuration(record.durationMs)}`,
      );
      migrations.push(record);
      if (record.status === 'failed') return { migrations, notes: notes() };
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs `work` with every query of `client` timed exactly and, while a transaction is open, the
 * backend's locks snapshotted after each statement from a second connection.
 */
async function observeClient(
  client: pg.Client,
  target: PgTarget,
  work: () => Promise<void>,
  watchOptions?: { intervalMs: number; probes: BlockingObservationOptions },
): Promise<ExternalObservation> {
  const observer = await connect(target, 'staging-refresh:observer');
  const pid = Number((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid);
  // #18: probes on every relation seen locked, from a lock sample every interval (a second
  // observer connection: the first one snapshots after each statement).
  const watch = watchOptions
    ? await startExternalBlockingObservation(target, observer, watchOptions.probes)
    : undefined;
  const watcher = watch && watchOptions ? await connect(target, 'staging-refresh:observer') : undefined;
  const lockPoll =
    watch && watcher && watchOptions
      ? pollEvery(watchOptions.intervalMs, async (at) =>
          watch.onLocks(await snapshotLocks(watcher, pid, true), at),
        )
      : undefined;
  const origin = performance.now();
  const tracker = new LockTracker(origin);
  const seen: SeenStatement[] = [];
  // node-pg-migrate calls client.query(text) (promise style); wrap it for the duration of `work`.
  const original = client.query.bind(client) as (
    text: unknown,
    ...rest: unknown[]
  ) => Promise<pg.QueryResult>;
  let inTransaction = false;
  let transactional: boolean | undefined;
  (client as unknown as { query: typeof original }).query = async (text: unknown, ...rest: unknown[]) => {
    const sql = typeof text === 'string' ? text : String((text as { text?: string }).text ?? '');
    // The server's own word (ReadyForQuery status) on whether this statement runs in a transaction.
    const openBefore = client.getTransactionStatus() === 'T';
    const started = performance.now();
    const result = await original(text, ...rest);
    const finished = performance.now();
    if (
      !/^\s*(SELECT pg_(try_)?advisory|SELECT .*FROM .*pgmigrations|SELECT .*information_schema|SET search_path)/i.test(
        sql,
      )
    ) {
      seen.push({ pid, sql: sql.trim(), startedAt: started, lastSeenAt: finished });
      if (!/^\s*(BEGIN|COMMIT|ROLLBACK|INSERT INTO .*pgmigrations|DELETE FROM .*pgmigrations)/i.test(sql))
        transactional = (transactional ?? true) && openBefore;
    }
    if (/^\s*BEGIN/i.test(sql)) inTransaction = true;
    if (/^\s*(COMMIT|ROLLBACK)/i.test(sql)) {
      inTransaction = false;
      tracker.releaseAll(finished);
    } else if (inTransaction) {
      tracker.observe(
        await snapshotLocks(observer, pid, true),
        finished,
        started,
        Math.max(0, seen.length - 1),
      );
    } else {
      tracker.releaseAll(finished);
    }
    return result;
  };
  let error: string | undefined;
  try {
    await work();
  } catch (failure) {
    error = (failure as Error).message;
  } finally {
    (client as unknown as { query: typeof original }).query = original;
    tracker.releaseAll(performance.now());
  }
  const durationMs = Math.round(performance.now() - origin);
  await lockPoll?.stop();
  await watcher?.end().catch(() => undefined);
  const probed = watch ? await watch.finish(seen, origin, tracker.result(performance.now())) : undefined;
  await observer.end().catch(() => undefined);
  return {
    durationMs,
    seen,
    locks: lockRecordsOf(tracker, probed?.documented),
    ...(probed && { blocking: probed.blocking }),
    ...(transactional !== undefined && { transactional }),
    ...(error !== undefined && { error }),
  };
}

/** down, timed and observed, then up again; a failing down is reported, not fatal. */
async function rehearseDown(
  client: pg.Client,
  target: PgTarget,
  options: Omit<Parameters<typeof runner>[0], 'direction'>,
): Promise<MigrationRecord['rollback']> {
  const down = await observeClient(client, target, async () => {
    await runner({ ...options, direction: 'down', count: 1 } as Parameters<typeof runner>[0]);
  });
  if (down.error)
    return { status: 'failed', durationMs: down.durationMs, error: down.error, locks: down.locks };
  await runner({ ...options, direction: 'up', count: 1 } as Parameters<typeof runner>[0]);
  return { status: 'rehearsed', durationMs: down.durationMs, locks: down.locks };
}
