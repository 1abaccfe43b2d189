// source.s3: the newest matching object under a prefix, downloaded with parallel ranged GETs
// into the work dir and verified before anything reads it.
import type { Config } from '../../config/schema.js';
import { ExitCode } from '../../errors.js';
import { s3ObjectStore } from '../../infra/s3/object-store.js';
import { type BackupSource, newestBackupCheck } from '../backup-source.js';
import { fetchBackup, verifiedDownload } from './download-object.js';
import { locateS3 } from './locate-s3.js';

/** The S3 settings of the config (`source.s3`). */
export type S3SourceConfig = Extract<Config['source'], { s3: unknown }>['s3'];

/** A BackupSource over one S3 bucket and prefix. */
export function s3Source(settings: S3SourceConfig): BackupSource {
  const store = s3ObjectStore(settings);
  return {
    description: `${store.description}, prefix "${settings.prefix}"`,
    fetches: true,
    locate: () => locateS3(store, settings.prefix, settings.keyPattern),
    async materialize(candidate, { workDir, log, signal }) {
      const fetched = await fetchBackup({
        store,
        candidate,
        workDir,
        partSize: settings.partSize,
        concurrency: settings.concurrency,
        log,
        signal,
      });
      const { bytes: _bytes, ...download } = fetched;
      return { path: fetched.path, download };
    },
    readable: (candidate, workDir) =>
      candidate.etag
        ? verifiedDownload(workDir, { key: candidate.key, etag: candidate.etag, bytes: candidate.bytes })
        : Promise.resolve(undefined),
    label: (candidate) => `${store.description}/${candidate.key}`,
    doctor: () =>
      newestBackupCheck(
        store.description,
        () => locateS3(store, settings.prefix, settings.keyPattern),
        ExitCode.unavailable,
      ),
  };
}
