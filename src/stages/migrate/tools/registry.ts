// The migration-tool registry: every value `migrations.tool` accepts. The config enum, the CLI's
// choices, `plan`, `lint --tool` and the migrate step are all derived from this list; adding a
// tool is one file beside this one and a line here.
import { commandTool } from './command.js';
import { flywayTool } from './flyway.js';
import { golangMigrateTool } from './golang-migrate.js';
import type { MigrationTool } from './migration-tool.js';
import { nodePgMigrateTool } from './node-pg-migrate.js';
import { prismaTool } from './prisma.js';
import { sqlTool } from './sql.js';

const TOOLS = [sqlTool, flywayTool, golangMigrateTool, prismaTool, nodePgMigrateTool, commandTool] as const;

/** A `migrations.tool` value. */
export type MigrationToolName = (typeof TOOLS)[number]['name'];

/** Every tool's name, in the registry's order (the config enum). */
export const MIGRATION_TOOL_NAMES = TOOLS.map((tool) => tool.name) as [
  MigrationToolName,
  ...MigrationToolName[],
];

/** The registry entry of `name`. */
export function migrationTool(name: MigrationToolName): MigrationTool {
  const tool: MigrationTool | undefined = TOOLS.find((entry) => entry.name === name);
  if (!tool) throw new Error(`unknown migration tool ${name}`); // unreachable: config and CLI check the name
  return tool;
}
