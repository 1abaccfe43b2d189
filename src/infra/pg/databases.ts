// CREATE / DROP / list databases, through the maintenance connection. Names are always quoted
// with the driver's escaping.
import type pg from 'pg';
import { ident, literal } from './connection.js';

/** True when a database of that name exists. */
export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (result.rowCount ?? 0) > 0;
}

/** Drops the database if it exists, terminating its sessions (PostgreSQL 13+). */
export async function dropDatabaseForce(client: pg.Client, name: string): Promise<boolean> {
  if (!(await databaseExists(client, name))) return false;
  await client.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
  return true;
}

/**
 * Creates an empty database from template0, owned by `owner` when given, with CREATE DATABASE
 * `options` (keyword → value, e.g. ENCODING → 'UTF8'; values quoted as literals).
 */
export async function createDatabase(
  client: pg.Client,
  name: string,
  owner?: string,
  options: readonly (readonly [keyword: string, value: string])[] = [],
): Promise<void> {
  const ownerClause = owner ? ` OWNER ${ident(owner)}` : '';
  const optionClauses = options.map(([keyword, value]) => {
    if (!/^[A-Z_]+$/.test(keyword)) throw new Error(`not a CREATE DATABASE option: ${keyword}`);
    return ` ${keyword} ${literal(value)}`;
  });
  await client.query(
    `CREATE DATABASE ${ident(name)} TEMPLATE template0${ownerClause}${optionClauses.join('')}`,
  );
}

/** Number of sessions connected to the database, other than ours. */
export async function sessionCount(client: pg.Client, name: string): Promise<number> {
  const result = await client.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  return Number(result.rows[0]?.n ?? 0);
}
