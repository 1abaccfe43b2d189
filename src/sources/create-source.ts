// The one place that turns the config's `source` into a backend. Adding a backend (GCS, Azure
// Blob, pgBackRest) = a folder under sources/, a schema entry, and a line here.
import type { Config } from '../config/schema.js';
import type { BackupSource } from './backup-source.js';
import { localSource } from './local/local-source.js';
import { s3Source } from './s3/s3-source.js';

/** The backend the config names. */
export function createSource(source: Config['source']): BackupSource {
  if (source.s3) return s3Source(source.s3);
  return localSource(source.local);
}
