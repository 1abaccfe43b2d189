// The swap ends the sessions still on live staging after the grace period. A role that may not
// (neither superuser nor a member of pg_signal_backend) would find out only at the swap, after
// the whole restore; the run and doctor ask first.
import type pg from 'pg';
import { GuardError } from '../../errors.js';
import { ident } from '../../infra/pg/connection.js';

/** Undefined when the connected role may end other sessions; otherwise what is wrong and the fix. */
export async function sessionRightsProblem(client: pg.Client): Promise<string | undefined> {
  const { rows } = await client.query<{ role: string; ok: boolean }>(
    `SELECT current_user AS role,
            rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS ok
       FROM pg_roles WHERE rolname = current_user`,
  );
  const row = rows[0];
  if (!row || row.ok) return undefined;
  return `role ${row.role} cannot end other sessions (it is not superuser and not a member of pg_signal_backend), so the swap could not close live staging; fix: GRANT pg_signal_backend TO ${ident(row.role)}`;
}

/** Throws GuardError (exit 77) when the connected role could not end sessions at the swap. */
export async function requireSessionRights(client: pg.Client): Promise<void> {
  const problem = await sessionRightsProblem(client);
  if (problem) throw new GuardError(`refusing to start: ${problem}`, { hint: 'nothing was changed' });
}
