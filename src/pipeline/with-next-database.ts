// The half-built `<db>__next` is owned here: once created, it is dropped however the run ends,
// unless the swap made it the live database. The live database is never touched here.
import { dropDatabaseForce } from '../infra/pg/databases.js';
import { withClient } from '../infra/pg/with-client.js';
import type { RunContext } from './run-context.js';

/** What the steps tell the owner of `__next`. */
export interface NextDatabase {
  /** The restore created it: from now on it is dropped unless swapped in. */
  created(): void;
  /** The swap renamed it to the live name: nothing to drop any more. */
  swappedIn(): void;
}

/** Runs fn; drops `__next` afterwards if fn created it and did not swap it in. Warnings go to `warn`. */
export async function withNextDatabase<T>(
  ctx: RunContext,
  warn: (message: string) => void,
  fn: (next: NextDatabase) => Promise<T>,
): Promise<T> {
  let owned = false;
  try {
    return await fn({
      created: () => {
        owned = true;
      },
      swappedIn: () => {
        owned = false;
      },
    });
  } finally {
    if (owned) await dropNext(ctx, warn);
  }
}

async function dropNext(ctx: RunContext, warn: (message: string) => void): Promise<void> {
  try {
    await withClient(ctx.maintenance, 'staging-refresh:cleanup', (client) =>
      dropDatabaseForce(client, ctx.next.database),
    );
    ctx.log.info(
      { database: ctx.next.database },
      'dropped the unfinished database; live staging is unchanged',
    );
  } catch (error) {
    const message = `could not drop ${ctx.next.database}: ${(error as Error).message}; the next run removes it`;
    warn(message);
    ctx.log.warn(message);
  }
}
