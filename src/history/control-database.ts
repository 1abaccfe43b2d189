// The control database (`control.url`) on first use: when it does not exist yet it is created
// — on the same server, from target.maintenanceDb, as the run already creates `<db>__next` —
// if the role may create databases; otherwise the error names the exact statement to run.
import { ConfigError, RefreshError } from '../errors.js';
import { describeTarget, ident, type PgTarget, withDatabase } from '../infra/pg/connection.js';
import { withClient } from '../infra/pg/with-client.js';

/** What is known about the control database before anything is changed. */
export type ControlDatabaseState =
  | { exists: true }
  | { exists: false; mayCreate: boolean; statement: string; where: string };

/** Looks without changing anything: does it exist, and if not, may this role create it. */
export async function inspectControlDatabase(
  control: PgTarget,
  maintenanceDb: string,
): Promise<ControlDatabaseState> {
  try {
    await withClient(control, 'staging-refresh:control', async () => undefined);
    return { exists: true };
  } catch (error) {
    if (!isMissingDatabase(error)) throw error;
  }
  const maintenance = withDatabase(control, maintenanceDb);
  const mayCreate = await withClient(maintenance, 'staging-refresh:control', async (client) => {
    const { rows } = await client.query<{ may: boolean }>(
      'SELECT rolcreatedb OR rolsuper AS may FROM pg_roles WHERE rolname = current_user',
    );
    return rows[0]?.may === true;
  });
  return {
    exists: false,
    mayCreate,
    statement: `CREATE DATABASE ${ident(control.database)} OWNER ${ident(control.user)};`,
    where: describeTarget(maintenance),
  };
}

/** Creates the control database when it is missing and the role may; 'created' or 'existed'. */
export async function ensureControlDatabase(
  control: PgTarget,
  maintenanceDb: string,
): Promise<'created' | 'existed'> {
  const state = await inspectControlDatabase(control, maintenanceDb);
  if (state.exists) return 'existed';
  if (!state.mayCreate) throw missingControlDatabase(control, state.statement);
  await withClient(withDatabase(control, maintenanceDb), 'staging-refresh:control', async (client) => {
    // Another run may create it at the same moment: duplicate_database is success.
    await client.query(`CREATE DATABASE ${ident(control.database)}`).catch((error: unknown) => {
      if ((error as { code?: string }).code !== '42P04') throw error;
    });
  });
  return 'created';
}

/** The error when the control database is missing and this role may not create it. */
export function missingControlDatabase(control: PgTarget, statement: string): ConfigError {
  return new ConfigError(
    `the control database ${control.database} (control.url) does not exist on ${describeTarget(withDatabase(control, ''))} and role ${control.user} may not create databases`,
    [],
    {
      hint: `as a superuser run: ${statement} — or ALTER ROLE ${ident(control.user)} CREATEDB; and it is created on the next run`,
    },
  );
}

/** invalid_catalog_name (3D000): the database in the URL does not exist. */
function isMissingDatabase(error: unknown): boolean {
  const cause = error instanceof RefreshError ? error.cause : error;
  return (cause as { code?: string } | undefined)?.code === '3D000';
}
