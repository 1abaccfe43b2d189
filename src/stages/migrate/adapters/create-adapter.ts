// Picks the adapter for migrations.tool.
import type { MigrationsConfig } from '../../../config/schema.js';
import { RunFailedError } from '../../../errors.js';
import type { MigrationAdapter } from './adapter.js';
import { flywayAdapter } from './flyway-adapter.js';
import { golangMigrateAdapter } from './golang-migrate-adapter.js';
import { prismaAdapter } from './prisma-adapter.js';
import { sqlAdapter } from './sql-adapter.js';

/** The adapter for the configured tool. */
export function createAdapter(config: MigrationsConfig): MigrationAdapter {
  switch (config.tool) {
    case 'sql':
      return sqlAdapter(config.historyTable);
    case 'golang-migrate':
      return golangMigrateAdapter();
    case 'flyway':
      return flywayAdapter();
    case 'prisma':
      return prismaAdapter();
    default:
      throw new RunFailedError('not-implemented', `migrations.tool "${config.tool}" is not implemented yet`, {
        hint: 'use sql, flyway, golang-migrate or prisma',
      });
  }
}
