// rollback: puts `<db>__prev` back as the live database and keeps the one it replaces as
// `<db>__prev`, so a second rollback undoes the first. Same care as the swap: no new
// connections, a grace period, then one transaction of renames.
import { RunFailedError } from '../../errors.js';
import { ident, type PgTarget } from '../../infra/pg/connection.js';
import { databaseNames } from '../../infra/pg/database-names.js';
import { databaseExists } from '../../infra/pg/databases.js';
import { withClient } from '../../infra/pg/with-client.js';
import type { Logger } from '../../log/logger.js';
import { endSessions } from './swap.js';

/** Swaps live and `__prev`; returns the number of sessions that were ended. */
export async function rollbackSwap(
  maintenance: PgTarget,
  live: string,
  graceMs: number,
  log: Logger,
): Promise<number> {
  const previous = databaseNames.previous(live);
  const parking = `${live}__rollback`;
  return withClient(maintenance, 'staging-refresh:rollback', async (client) => {
    if (!(await databaseExists(client, previous))) {
      throw new RunFailedError('nothing-to-roll-back', `there is no ${previous} to roll back to`, {
        hint: 'target.keepPrevious must be at least 1, and a refresh must have swapped once',
      });
    }
    const liveExists = await databaseExists(client, live);
    let ended = 0;
    if (liveExists) {
      await client.query(`ALTER DATABASE ${ident(live)} ALLOW_CONNECTIONS false`);
      try {
        ended = await endSessions(client, live, graceMs, log);
      } catch (error) {
        await client.query(`ALTER DATABASE ${ident(live)} ALLOW_CONNECTIONS true`).catch(() => undefined);
        throw error;
      }
    }
    await client.query('BEGIN');
    try {
      if (liveExists) await client.query(`ALTER DATABASE ${ident(live)} RENAME TO ${ident(parking)}`);
      await client.query(`ALTER DATABASE ${ident(previous)} RENAME TO ${ident(live)}`);
      if (liveExists) await client.query(`ALTER DATABASE ${ident(parking)} RENAME TO ${ident(previous)}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (liveExists)
        await client.query(`ALTER DATABASE ${ident(live)} ALLOW_CONNECTIONS true`).catch(() => undefined);
      throw error;
    }
    await client.query(`ALTER DATABASE ${ident(live)} ALLOW_CONNECTIONS true`);
    return ended;
  });
}
