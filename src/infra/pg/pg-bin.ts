// Finds the PostgreSQL client binaries: $PG_BIN, else the directory a run chose for its restore
// (withPgBinDir), else the first of clientBinDirs ($PG_BIN_DIRS, or the newest
// /usr/lib/postgresql/N/bin, then /usr/pgsql-N/bin), else whatever is on PATH.
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DEBIAN_ROOT = '/usr/lib/postgresql';
/** The PostgreSQL project's RPMs install each major in its own /usr/pgsql-N. */
const RPM_ROOT = '/usr';

/** The client tools a run chose (client-tools.ts) for what runs inside withPgBinDir; dir undefined: PATH. */
const chosen = new AsyncLocalStorage<{ dir: string | undefined }>();

/** Directory holding pg_restore & co, or undefined to use PATH. */
export function pgBinDir(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.PG_BIN) return env.PG_BIN;
  const scoped = chosen.getStore();
  if (scoped) return scoped.dir;
  return clientBinDirs(env)[0];
}

/** Runs `fn` with pgTool resolving to the tools in `dir` (undefined: PATH's); PG_BIN, when set, still wins. */
export function withPgBinDir<T>(dir: string | undefined, fn: () => Promise<T>): Promise<T> {
  return chosen.run({ dir }, fn);
}

/** Full path (or bare name for PATH lookup) of a PostgreSQL tool. */
export function pgTool(name: 'pg_restore' | 'pg_dump' | 'psql' | 'vacuumdb', binDir = pgBinDir()): string {
  return binDir ? join(binDir, name) : name;
}

/**
 * The client tool directories a run may choose from: $PG_BIN alone when set; else those
 * $PG_BIN_DIRS lists (colon-separated); else every installed major, newest first, the Debian way
 * (/usr/lib/postgresql/N/bin) and the RPM way (/usr/pgsql-N/bin). Only directories with a
 * pg_restore; empty when there is none (PATH, then).
 */
export function clientBinDirs(env: Record<string, string | undefined> = process.env): string[] {
  if (env.PG_BIN) return [env.PG_BIN];
  const listed = env.PG_BIN_DIRS?.split(':').filter((dir) => dir !== '');
  const dirs = listed ?? [...debianBinDirs(), ...rpmBinDirs()];
  return [...new Set(dirs)].filter((dir) => existsSync(join(dir, 'pg_restore')));
}

function debianBinDirs(): string[] {
  return numbered(DEBIAN_ROOT, /^(\d+)$/)
    .map((name) => join(DEBIAN_ROOT, name, 'bin'))
    .filter((dir) => existsSync(join(dir, 'pg_restore')));
}

function rpmBinDirs(): string[] {
  return numbered(RPM_ROOT, /^pgsql-(\d+)$/).map((name) => join(RPM_ROOT, name, 'bin'));
}

/** Entries of `root` whose name matches `pattern` (one numeric group), highest number first. */
function numbered(root: string, pattern: RegExp): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => pattern.test(name))
    .sort((a, b) => Number(pattern.exec(b)?.[1]) - Number(pattern.exec(a)?.[1]));
}
