// Where a PostgreSQL database is and how to reach it, without ever putting the password in a
// URL we print or in a child's argv: it travels in the pg driver's config and in PGPASSWORD.
import pg from 'pg';
import { UsageError } from '../../errors.js';

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

/** Parses postgres://user[:password]@host[:port]/db[?params]; the password may come from PGPASSWORD. */
export function parsePgUrl(url: string, env: Record<string, string | undefined> = process.env): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('not a valid postgres:// URL (the value is not printed: it may hold a password)');
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const params = Object.fromEntries(parsed.searchParams.entries());
  return {
    host: decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, '')) || params.host || 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || env.PGUSER || 'postgres',
    password: parsed.password ? decodeURIComponent(parsed.password) : env.PGPASSWORD,
    database: database || env.PGDATABASE || 'postgres',
    params,
  };
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
