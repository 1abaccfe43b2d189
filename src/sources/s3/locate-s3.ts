// source.s3: the newest object under the prefix whose key matches keyPattern, by LastModified.
import { BadBackupError } from '../../errors.js';
import type { ObjectStore } from '../../infra/s3/object-store.js';
import type { BackupCandidate } from '../backup-source.js';

/** Lists every page under `prefix` and picks the newest matching object. */
export async function locateS3(
  store: ObjectStore,
  prefix: string,
  keyPattern: string,
): Promise<BackupCandidate> {
  const pattern = new RegExp(keyPattern);
  let newest: BackupCandidate | undefined;
  let seen = 0;
  for await (const object of store.list(prefix)) {
    seen++;
    if (!pattern.test(object.key)) continue;
    if (!newest || object.lastModified > newest.lastModified) {
      newest = {
        source: 's3',
        key: object.key,
        bytes: object.bytes,
        lastModified: object.lastModified,
        etag: object.etag,
      };
    }
  }
  if (!newest) {
    throw new BadBackupError(
      `no backup matching /${keyPattern}/ under "${prefix}" in ${store.description} (${seen} objects listed)`,
      {
        hint: 'check source.s3.prefix and source.s3.keyPattern, and that the backup job uploads there',
      },
    );
  }
  return newest;
}
