// After a swap or rollback that was killed (SIGKILL between ALLOW_CONNECTIONS false and the
// renames, or a SIGTERM deadline that ran out), live staging may still refuse connections. Under
// the single-flight lock no other swap can be running, so a live database that refuses
// connections is such a leftover: it takes connections again, and a parked `__drop` goes.
import { ident, type PgTarget } from '../../infra/pg/connection.js';
import { dropDatabaseForce } from '../../infra/pg/databases.js';
import { withClient } from '../../infra/pg/with-client.js';
import { dropName } from './swap.js';

/** Puts live staging back to accepting connections; returns what it did, one sentence each. */
export async function recoverInterruptedSwap(maintenance: PgTarget, live: string): Promise<string[]> {
  return withClient(maintenance, 'staging-refresh:recover', async (client) => {
    const done: string[] = [];
    const refusing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1 AND NOT datallowconn', [
      live,
    ]);
    if (refusing.rowCount) {
      await client.query(`ALTER DATABASE ${ident(live)} ALLOW_CONNECTIONS true`);
      done.push(
        `${live} was left refusing connections by an interrupted swap or rollback: it accepts them again`,
      );
    }
    if (await dropDatabaseForce(client, dropName(live)))
      done.push(`dropped ${dropName(live)}, left over by an interrupted swap`);
    return done;
  });
}
