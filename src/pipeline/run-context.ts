// What every stage gets: the config, the logger, the abort signal, and where the live and
// the new database are.
import type { Config } from '../config/schema.js';
import { type PgTarget, parsePgUrl, withDatabase } from '../infra/pg/connection.js';
import { databaseNames } from '../infra/pg/database-names.js';
import type { Logger } from '../log/logger.js';
import { newRunScratchDir } from './crash-marker.js';

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
  /** This run's own directory in the work dir (crash-marker.ts newRunScratchDir). */
  scratch: string;
}

/** The context of a run that starts at `startedAt`. */
export function createRunContext(
  config: Config,
  run: { log: Logger; signal?: AbortSignal | undefined; runId?: string | undefined; startedAt: Date },
): RunContext {
  const live = parsePgUrl(config.target.url);
  const runId = run.runId ?? newRunId(run.startedAt);
  return {
    runId,
    config,
    log: run.log.child({ runId }),
    signal: run.signal ?? new AbortController().signal,
    live,
    next: withDatabase(live, databaseNames.next(live.database)),
    maintenance: withDatabase(live, config.target.maintenanceDb),
    startedAt: run.startedAt,
    scratch: newRunScratchDir(config.workDir, runId),
  };
}

/** A run id that sorts by time and is safe in file names: 20261125T060102Z-a1b2. */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
}
