// `prisma`: <timestamp>_<name>/migration.sql (adapters/prisma-adapter.ts).
import { prismaAdapter } from '../adapters/prisma-adapter.js';
import { adapterLintSources, type ReplayedTool } from './migration-tool.js';

/** `prisma migrate deploy` with _prisma_migrations. */
export const prismaTool: ReplayedTool<'prisma'> = {
  name: 'prisma',
  kind: 'replayed',
  layout: '<timestamp>_<name>/migration.sql',
  adapter: () => prismaAdapter(),
  lintSources: (dir) => adapterLintSources(prismaAdapter(), dir),
};
