// The values `migrations.tool` accepts. The config (the ground floor) cannot import the tools
// themselves; the registry in src/stages/migrate/tools/registry.ts maps every name here to its
// tool, and TypeScript refuses a name without a tool or a tool without a name.

/** Every migration tool's name, in the order help texts list them. */
export const MIGRATION_TOOL_NAMES = [
  'sql',
  'flyway',
  'golang-migrate',
  'prisma',
  'node-pg-migrate',
  'command',
] as const;

/** A `migrations.tool` value. */
export type MigrationToolName = (typeof MIGRATION_TOOL_NAMES)[number];
