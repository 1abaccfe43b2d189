// The migration-tool registry: every value `migrations.tool` accepts (the names live in
// src/config/migration-tool-names.ts, below the stages) mapped to its tool. The config enum, the
// CLI's choices, `plan`, `lint --tool` and the migrate step are all derived from it; adding a
// tool is one file beside this one, its name in that list and its line here (TypeScript refuses
// a name without a tool or a tool without a name).
import { MIGRATION_TOOL_NAMES, type MigrationToolName } from '../../../config/migration-tool-names.js';
import { commandTool } from './command.js';
import { flywayTool } from './flyway.js';
import { golangMigrateTool } from './golang-migrate.js';
import type { MigrationTool, ReplayedTool, SelfRunningTool } from './migration-tool.js';
import { nodePgMigrateTool } from './node-pg-migrate.js';
import { prismaTool } from './prisma.js';
import { sqlTool } from './sql.js';

export { MIGRATION_TOOL_NAMES, type MigrationToolName };

const TOOLS: { readonly [Name in MigrationToolName]: ReplayedTool<Name> | SelfRunningTool<Name> } = {
  sql: sqlTool,
  flyway: flywayTool,
  'golang-migrate': golangMigrateTool,
  prisma: prismaTool,
  'node-pg-migrate': nodePgMigrateTool,
  command: commandTool,
};

/** The registry entry of `name`. */
export function migrationTool(name: MigrationToolName): MigrationTool {
  return TOOLS[name];
}
