// plan: what a run would do now — which backup, its age and format, its tables — without
// changing anything.

import { formatDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import { parsePgUrl } from '../infra/pg/connection.js';
import { s3ObjectStore } from '../infra/s3/object-store.js';
import { guardTarget } from '../stages/guard/guard.js';
import { inspectArchive } from '../stages/inspect/inspect.js';
import { checkBackupAge } from '../stages/locate/check-age.js';
import { locateLocal } from '../stages/locate/locate-local.js';
import { locateS3 } from '../stages/locate/locate-s3.js';

export interface Plan {
  target: string;
  backup: { key: string; bytes: number; age: string; format: string; dumpVersion?: string | undefined };
  tables: string[];
}

/** The format a key's name suggests (the file itself is only read by a run). */
function formatFromKey(key: string): string {
  if (/\.(dump|backup|custom)$/.test(key)) return 'custom (by name)';
  if (/\.tar$/.test(key)) return 'tar (by name)';
  if (/\.sql(\.gz)?$/.test(key)) return 'plain SQL (by name)';
  return 'unknown';
}

/** Builds the plan; throws the same errors a run would (guard, missing or stale backup). */
export async function buildPlan(config: Config, now = new Date()): Promise<Plan> {
  const target = guardTarget(config, parsePgUrl(config.target.url));
  const s3 = config.source.s3;
  if (s3) {
    // Nothing is downloaded for a plan: the object's listing says what a run would use.
    const store = s3ObjectStore(s3);
    const backup = await locateS3(store, s3.prefix, s3.keyPattern);
    const ageMs = checkBackupAge(backup, config.source.maxAge, now);
    return {
      target,
      backup: {
        key: `${store.description}/${backup.key}`,
        bytes: backup.bytes,
        age: formatDuration(ageMs),
        format: formatFromKey(backup.key),
      },
      tables: [],
    };
  }
  const backup = await locateLocal(config.source.local?.path ?? '');
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
