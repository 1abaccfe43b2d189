// The guard: decides, before any connection is made, whether the configured target may be
// replaced. A target that is not allowed, looks like production, or is the control database
// is refused (exit 77).
import type { Config } from '../../config/schema.js';
import { GuardError } from '../../errors.js';
import { type PgTarget, parsePgUrl, targetIdentity } from '../../infra/pg/connection.js';
import { databaseNames } from '../../infra/pg/database-names.js';

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const MAX_IDENTIFIER_BYTES = 63;

/** Throws GuardError when `live` must not be touched; returns the identity that was allowed. */
export function guardTarget(config: Config, live: PgTarget): string {
  const identity = targetIdentity(live);
  const host = live.host.toLowerCase();
  for (const production of config.production.hosts) {
    const [prodHost, prodPort] = production.toLowerCase().split(':');
    if (prodHost === host && (prodPort === undefined || Number(prodPort) === live.port)) {
      throw new GuardError(`refusing ${identity}: its host matches production.hosts entry "${production}"`, {
        hint: 'target.url must point at the staging server; production is never a target, whatever target.allow says',
      });
    }
  }
  if (!config.target.allow.some((entry) => matchesAllow(entry, live))) {
    throw new GuardError(
      `refusing ${identity}: it is not listed in target.allow (${config.target.allow.join(', ')})`,
      {
        hint: `add "${identity}" to target.allow if this really is the staging database to replace`,
      },
    );
  }
  if (config.control) {
    const control = parsePgUrl(config.control.url);
    if (targetIdentity(control).toLowerCase() === identity.toLowerCase()) {
      throw new GuardError(`refusing ${identity}: it is also the control database (control.url)`, {
        hint: 'keep the run history in its own database, e.g. staging_refresh',
      });
    }
  }
  if (!DATABASE_NAME.test(live.database)) {
    throw new GuardError(`refusing database name "${live.database}": use letters, digits, _ and -`);
  }
  const longest = databaseNames.previous(live.database, Math.max(2, config.target.keepPrevious));
  if (Buffer.byteLength(longest) > MAX_IDENTIFIER_BYTES) {
    throw new GuardError(`database name "${live.database}" is too long: "${longest}" would exceed 63 bytes`);
  }
  return identity;
}

/** `host:port/db`, `host/db` (port 5432), `host:port/*`; host names compare case-insensitively. */
export function matchesAllow(entry: string, target: PgTarget): boolean {
  const match = /^([^:/]+)(?::(\d+))?\/(.+)$/.exec(entry.trim());
  if (!match) return false;
  const [, host, port, database] = match as unknown as [string, string, string | undefined, string];
  return (
    host.toLowerCase() === target.host.toLowerCase() &&
    Number(port ?? 5432) === target.port &&
    (database === '*' || database === target.database)
  );
}
