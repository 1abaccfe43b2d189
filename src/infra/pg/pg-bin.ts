// Finds the PostgreSQL client binaries: $PG_BIN, else the newest /usr/lib/postgresql/N/bin,
// else whatever is on PATH.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DEBIAN_ROOT = '/usr/lib/postgresql';

/** Directory holding pg_restore & co, or undefined to use PATH. */
export function pgBinDir(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.PG_BIN) return env.PG_BIN;
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const versions = readdirSync(DEBIAN_ROOT)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(DEBIAN_ROOT, name, 'bin', 'pg_restore')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(DEBIAN_ROOT, versions[0], 'bin') : undefined;
}

/** Full path (or bare name for PATH lookup) of a PostgreSQL tool. */
export function pgTool(name: 'pg_restore' | 'pg_dump' | 'psql' | 'vacuumdb', binDir = pgBinDir()): string {
  return binDir ? join(binDir, name) : name;
}
