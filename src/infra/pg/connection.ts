// Where a PostgreSQL database is and how to reach it, without ever putting the password in a
// URL we print or in a child's argv: it travels in the pg driver's config and in PGPASSWORD.
import pg from 'pg';
import { ConfigError, UsageError } from '../../errors.js';

/** A PostgreSQL server plus database, parsed from a postgres:// URL. */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
  /** Extra URL parameters (sslmode, …) kept for libpq tools. */
  params: Record<string, string>;
}

/**
 * Query-string parameters a URL may carry. `host`, `port`, `dbname`, `user` and `password` are
 * folded into the target (and must agree with the URL's own parts); the rest only shape TLS and
 * timeouts. Anything else (`hostaddr`, `service`, `options`, `target_session_attrs`, …) could
 * send libpq somewhere the guard never looked, so the URL is refused (exit 78).
 */
const NO_HOST = 'no-host.invalid';
const FOLDED_PARAMS = ['host', 'port', 'dbname', 'user', 'password'] as const;
const PASSED_PARAMS = new Set([
  'sslmode',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'connect_timeout',
  'application_name',
]);

/** Parses postgres://user[:password]@host[:port]/db[?params]; the password may come from PGPASSWORD. */
export function parsePgUrl(url: string, env: Record<string, string | undefined> = process.env): PgTarget {
  let parsed: URL;
  try {
    // libpq accepts user@ with no host (postgres://me@/db?host=/run/postgresql); WHATWG URL does not.
    parsed = new URL(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*@)(?=[/?#]|$)/, `$1${NO_HOST}`));
  } catch {
    throw new UsageError('not a valid postgres:// URL (the value is not printed: it may hold a password)');
  }
  const params: Record<string, string> = {};
  for (const [key, value] of parsed.searchParams.entries()) {
    if (key in params) throw urlRefused(`names the parameter "${key}" twice`);
    params[key] = value;
  }
  for (const key of Object.keys(params)) {
    if (!PASSED_PARAMS.has(key) && !(FOLDED_PARAMS as readonly string[]).includes(key))
      throw urlRefused(
        `has the connection parameter "${key}" in its query string, which could lead elsewhere than the host it names`,
      );
  }
  const fold = (key: (typeof FOLDED_PARAMS)[number], fromUrl: string): string => {
    const fromQuery = params[key];
    delete params[key];
    if (fromQuery === undefined) return fromUrl;
    if (fromUrl !== '' && fromUrl !== fromQuery)
      throw urlRefused(`names its ${key} twice, differently (in the URL and in ?${key}=)`);
    return fromQuery;
  };
  const written = parsed.hostname === NO_HOST ? '' : parsed.hostname;
  const host = fold('host', decodeURIComponent(written.replace(/^\[|\]$/g, '')));
  const port = fold('port', parsed.port);
  const database = fold('dbname', decodeURIComponent(parsed.pathname.replace(/^\//, '')));
  const user = fold('user', decodeURIComponent(parsed.username));
  const password = fold('password', parsed.password ? decodeURIComponent(parsed.password) : '');
  if (host.includes(',') || port.includes(','))
    throw urlRefused('lists several hosts: name exactly one server');
  if (port !== '' && !/^\d{1,5}$/.test(port)) throw urlRefused('has a port that is not a number');
  return {
    host: host || 'localhost',
    port: port ? Number(port) : 5432,
    user: user || env.PGUSER || 'postgres',
    password: password !== '' ? password : env.PGPASSWORD,
    database: database || env.PGDATABASE || 'postgres',
    params,
  };
}

function urlRefused(what: string): ConfigError {
  return new ConfigError(`a postgres:// URL ${what} (the URL is not printed: it may hold a password)`, [], {
    hint: 'write host, port and database in the URL itself: postgres://user@host:5432/db',
  });
}

/** The same server, another database. */
export function withDatabase(target: PgTarget, database: string): PgTarget {
  return { ...target, database };
}

/** `postgres://user@host:port/db`: what we print. Never contains the password. */
export function describeTarget(target: PgTarget): string {
  return `postgres://${encodeURIComponent(target.user)}@${target.host}:${target.port}/${encodeURIComponent(target.database)}`;
}

/** host:port/db, the form `target.allow` and the guard use. */
export function targetIdentity(target: PgTarget): string {
  return `${target.host}:${target.port}/${target.database}`;
}

/** Environment for libpq tools (pg_restore, psql, vacuumdb): the password never appears in argv. */
export function libpqEnv(target: PgTarget): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGUSER: target.user,
    PGDATABASE: target.database,
  };
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  if (target.params.sslmode) env.PGSSLMODE = target.params.sslmode;
  return env;
}

/** Config for a node-postgres client; every session is named so observers can find it. */
export function clientConfig(target: PgTarget, applicationName: string): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    application_name: applicationName.slice(0, 63),
    connectionTimeoutMillis: 10_000,
    ssl: sslFor(target.params.sslmode),
  };
}

function sslFor(mode: string | undefined): pg.ClientConfig['ssl'] {
  if (mode === undefined || mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  return true;
}

/** Quotes an identifier with the driver's own escaping. */
export function ident(name: string): string {
  return pg.escapeIdentifier(name);
}

/** Quotes a string literal with the driver's own escaping. */
export function literal(value: string): string {
  return pg.escapeLiteral(value);
}

/** Quotes `schema.table` (either part may need quoting). */
export function qualifiedName(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}
