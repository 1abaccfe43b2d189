// `flyway`: V<version>__*.sql, R__*.sql (adapters/flyway-adapter.ts).
import { flywayAdapter } from '../adapters/flyway-adapter.js';
import { adapterLintSources, type ReplayedTool } from './migration-tool.js';

/** Flyway's SQL migrations and flyway_schema_history. */
export const flywayTool: ReplayedTool<'flyway'> = {
  name: 'flyway',
  kind: 'replayed',
  layout: 'V<version>__<description>.sql, R__<description>.sql (undo: U<version>__…)',
  adapter: (config) => flywayAdapter(config.flyway),
  lintSources: (dir, config) => adapterLintSources(flywayAdapter(config.flyway), dir),
};
