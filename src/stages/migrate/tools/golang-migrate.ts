// `golang-migrate`: <n>_<name>.up.sql (adapters/golang-migrate-adapter.ts).
import { golangMigrateAdapter } from '../adapters/golang-migrate-adapter.js';
import { adapterLintSources, type ReplayedTool } from './migration-tool.js';

/** golang-migrate's postgres driver with its schema_migrations(version, dirty). */
export const golangMigrateTool: ReplayedTool<'golang-migrate'> = {
  name: 'golang-migrate',
  kind: 'replayed',
  layout: '<version>_<name>.up.sql / .down.sql',
  adapter: () => golangMigrateAdapter(),
  lintSources: (dir) => adapterLintSources(golangMigrateAdapter(), dir),
};
