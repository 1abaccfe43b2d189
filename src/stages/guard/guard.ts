// The guard: decides, before any connection is made, whether the configured target may be
// replaced. A target that is not allowed, looks like production, or is the control database
// is refused (exit 77). Hosts are compared as identities — normalized spellings and the
// addresses they resolve to — not as strings, and ports default to 5432 on both sides.
import type { Config } from '../../config/schema.js';
import { GuardError } from '../../errors.js';
import { DEFAULT_PG_PORT, type Endpoint, resolveEndpoint, sameHost } from '../../infra/net/endpoint.js';
import { type PgTarget, parsePgUrl, targetIdentity } from '../../infra/pg/connection.js';
import { databaseNames } from '../../infra/pg/database-names.js';

const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const MAX_IDENTIFIER_BYTES = 63;

/** A `production.hosts` or `target.allow` entry split into host, port and database. */
export interface HostEntry {
  host: string;
  port: number | undefined;
  /** Only for allow entries: a database name or `*`. */
  database?: string;
}

/** Throws GuardError when `live` must not be touched; returns the identity that was allowed. */
export async function guardTarget(config: Config, live: PgTarget): Promise<string> {
  const identity = targetIdentity(live);
  const target = await resolveEndpoint(live.host);
  for (const production of config.production.hosts) {
    const entry = parseHostEntry(production, false);
    if (!entry) throw new GuardError(`production.hosts entry "${production}" is not host[:port]`);
    if (await reaches(entry, target, live.port)) {
      throw new GuardError(`refusing ${identity}: its host matches production.hosts entry "${production}"`, {
        hint: 'target.url must point at the staging server; production is never a target, whatever target.allow says',
      });
    }
  }
  let allowed = false;
  for (const text of config.target.allow) {
    if (await matchesAllow(text, live, target)) allowed = true;
  }
  if (!allowed) {
    throw new GuardError(
      `refusing ${identity}: it is not listed in target.allow (${config.target.allow.join(', ')})`,
      {
        hint: `add "${identity}" to target.allow if this really is the staging database to replace`,
      },
    );
  }
  if (config.control) {
    const control = parsePgUrl(config.control.url);
    if (
      control.database === live.database &&
      (await reaches({ host: control.host, port: control.port }, target, live.port))
    ) {
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

/**
 * `host[:port]/db`, `[ipv6][:port]/db`, `ipv6/db`, `/socket/dir[:port]/db` (db may be `*`); host
 * names compare as identities, the port defaults to 5432.
 */
export async function matchesAllow(entry: string, live: PgTarget, target?: Endpoint): Promise<boolean> {
  const parsed = parseHostEntry(entry, true);
  if (!parsed) return false;
  if (parsed.database !== '*' && parsed.database !== live.database) return false;
  return reaches(
    { host: parsed.host, port: parsed.port ?? DEFAULT_PG_PORT },
    target ?? (await resolveEndpoint(live.host)),
    live.port,
  );
}

/** Is `entry` (its port, when it names one) the same server as `target` on `port`? */
async function reaches(entry: HostEntry, target: Endpoint, port: number): Promise<boolean> {
  if (entry.port !== undefined && entry.port !== port) return false;
  return sameHost(await resolveEndpoint(entry.host), target);
}

/** Splits an entry; with `withDatabase` the entry must end in `/db`. Undefined when malformed. */
export function parseHostEntry(text: string, withDatabase: boolean): HostEntry | undefined {
  let rest = text.trim();
  let database: string | undefined;
  if (withDatabase) {
    const slash = rest.lastIndexOf('/');
    if (slash <= 0 || slash === rest.length - 1) return undefined;
    database = rest.slice(slash + 1);
    rest = rest.slice(0, slash);
  }
  let host = rest;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  const portSuffix = /^(.*[^:]):(\d+)$/.exec(rest);
  if (bracketed) {
    host = bracketed[1] as string;
    port = bracketed[2];
  } else if ((rest.match(/:/g) ?? []).length > 1 && !rest.startsWith('/')) {
    host = rest; // a bare IPv6 address: no port
  } else if (portSuffix) {
    host = portSuffix[1] as string;
    port = portSuffix[2];
  }
  if (host === '' || /[\s,]/.test(host)) return undefined;
  return { host, port: port === undefined ? undefined : Number(port), ...(database && { database }) };
}
