// The migration tools' own bookkeeping tables: every migration writes a row to one, so they are
// locked by every run, but blocking on them is never what a verdict is about.

/** Bare table names (any schema) migration tools keep their history in. */
const BOOKKEEPING = new Set([
  'schema_migrations', // sql adapter, Rails, golang-migrate, dbmate
  'ar_internal_metadata', // Rails
  'flyway_schema_history', // Flyway
  'schema_version', // Flyway before 5
  '_prisma_migrations', // Prisma
  'pgmigrations', // node-pg-migrate
  'goose_db_version', // goose
  'knex_migrations', // knex
  'knex_migrations_lock',
  'alembic_version', // Alembic
  'django_migrations', // Django
  '__efmigrationshistory', // Entity Framework
  'databasechangelog', // Liquibase
  'databasechangeloglock',
  'gorp_migrations', // sql-migrate
]);

/** True for a migration tool's history table (`schema.table` or bare); `extra`: configured history tables. */
export function isBookkeepingTable(relation: string, extra: readonly string[] = []): boolean {
  const bare = relation
    .slice(relation.lastIndexOf('.') + 1)
    .replace(/"/g, '')
    .toLowerCase();
  if (BOOKKEEPING.has(bare)) return true;
  if (relation.toLowerCase().startsWith('sqitch.')) return true; // sqitch.changes, .tags, .events, …
  return extra.some((name) => name === relation || name === bare || name.endsWith(`.${bare}`));
}
