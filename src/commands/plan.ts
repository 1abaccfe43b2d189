// plan: what a run would do now — which backup, its age and format, its tables — without
// changing anything.

import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { RunFailedError } from '../errors.js';
import { parsePgUrl } from '../infra/pg/connection.js';
import { guardTarget } from '../stages/guard/guard.js';
import { inspectArchive } from '../stages/inspect/inspect.js';
import { checkBackupAge } from '../stages/locate/check-age.js';
import { locateLocal } from '../stages/locate/locate-local.js';

export interface Plan {
  target: string;
  backup: { key: string; bytes: number; age: string; format: string; dumpVersion?: string | undefined };
  tables: string[];
}

/** Builds the plan; throws the same errors a run would (guard, missing or stale backup). */
export async function buildPlan(config: Config, now = new Date()): Promise<Plan> {
  const target = guardTarget(config, parsePgUrl(config.target.url));
  if (!config.source.local) throw new RunFailedError('not-implemented', 'source.s3 is not implemented yet');
  const backup = await locateLocal(config.source.local.path);
  const ageMs = checkBackupAge(backup, config.source.maxAge, now);
  const inspected = await inspectArchive(backup.key);
  return {
    target,
    backup: {
      key: backup.key,
      bytes: backup.bytes,
      age: formatDuration(ageMs),
      format: inspected.format,
      dumpVersion: inspected.toc.dumpVersion,
    },
    tables: inspected.tables,
  };
}
