// What every stage gets: the config, the logger, the abort signal, and where the live and
// the new database are.
import type { Config } from '../config/schema.js';
import type { PgTarget } from '../infra/pg/connection.js';
import type { Logger } from '../log/logger.js';

/** The run context handed to each stage. */
export interface RunContext {
  runId: string;
  config: Config;
  log: Logger;
  signal: AbortSignal;
  /** The live staging database (config target.url). */
  live: PgTarget;
  /** The database the run builds: `<live>__next`. */
  next: PgTarget;
  /** Maintenance database on the same server, for CREATE/DROP/RENAME DATABASE. */
  maintenance: PgTarget;
  startedAt: Date;
}

/** A run id that sorts by time and is safe in file names: 20261125T060102Z-a1b2. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}
