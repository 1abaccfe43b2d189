// What this machine must have, where to look for it, and the one command that installs what is
// missing: used by `doctor` (what a refresh needs) and by scripts/prerequisites.ts (what the
// tests and the demo need). Looks only at files on disk; never runs anything.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pgBinDir } from '../pg/pg-bin.js';

/** The environment prerequisites are looked up in (PATH, PG_BIN, CHROMIUM, …). */
export type Env = Record<string, string | undefined>;

/** One thing a machine needs, with the Debian/Ubuntu packages that provide it. */
export interface Prerequisite {
  /** How a person names it, e.g. "pg_restore". */
  name: string;
  /** What it is needed for, one phrase. */
  neededFor: string;
  /** Debian/Ubuntu packages, alternatives in order of preference (the first one available is installed). */
  packages: readonly string[];
  /** Where it was found, or undefined when it is missing. */
  locate(env: Env): string | undefined;
}

/** The executable `name` on env.PATH, or undefined. */
export function onPath(name: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

/** True when `file` exists and may be executed by this process. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A PostgreSQL binary: in $PG_BIN / the newest /usr/lib/postgresql/N/bin, else on PATH (as pgTool runs it). */
export function pgBinary(name: string, packages: readonly string[], neededFor: string): Prerequisite {
  return {
    name,
    neededFor,
    packages,
    locate: (env) => {
      const dir = pgBinDir(env);
      if (dir) return isExecutable(join(dir, name)) ? join(dir, name) : undefined;
      return onPath(name, env);
    },
  };
}

/** An executable found on PATH. */
export function executable(name: string, packages: readonly string[], neededFor: string): Prerequisite {
  return { name, neededFor, packages, locate: (env) => onPath(name, env) };
}

/** What a refresh needs on the machine it runs on (`doctor` checks these). */
export const RUN_PREREQUISITES: readonly Prerequisite[] = [
  pgBinary('pg_restore', ['postgresql-client'], 'restoring the backup'),
  pgBinary('psql', ['postgresql-client'], 'plain-SQL backups and migrations'),
  pgBinary('vacuumdb', ['postgresql-client'], 'ANALYZE after the restore'),
];

/** git, needed only when migrations come from a repository (migrations.git). */
export const GIT = executable('git', ['git'], 'cloning migrations.git');

/** The prerequisites of `list` that are missing under `env`. */
export function missingPrerequisites(list: readonly Prerequisite[], env: Env = process.env): Prerequisite[] {
  return list.filter((prerequisite) => prerequisite.locate(env) === undefined);
}

/** The packages that install `missing`, each once, the first alternative of each. */
export function packagesFor(missing: readonly Prerequisite[]): string[] {
  return [...new Set(missing.map((prerequisite) => prerequisite.packages[0] as string))];
}

/** The one command a person runs to install `missing` (sudo unless root). */
export function installCommand(missing: readonly Prerequisite[], asRoot = process.getuid?.() === 0): string {
  const sudo = asRoot ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packagesFor(missing).join(' ')}`;
}
