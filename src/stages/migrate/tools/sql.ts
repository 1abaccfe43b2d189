// `sql`: plain .sql files in name order (adapters/sql-adapter.ts).
import { sqlAdapter } from '../adapters/sql-adapter.js';
import { adapterLintSources, type ReplayedTool } from './migration-tool.js';

/** Plain SQL files with a schema_migrations-like history table. */
export const sqlTool: ReplayedTool<'sql'> = {
  name: 'sql',
  kind: 'replayed',
  layout: '*.sql in name order (down: *.down.sql or down/*.sql)',
  adapter: (config) => sqlAdapter(config.historyTable, config.versionColumn),
  lintSources: (dir, config) =>
    adapterLintSources(sqlAdapter(config.historyTable, config.versionColumn), dir),
};
