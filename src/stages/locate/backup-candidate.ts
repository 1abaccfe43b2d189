// What locate hands to fetch: one backup, wherever it lives.

/** The newest backup that matched. */
export interface BackupCandidate {
  source: 'local' | 's3';
  /** File path (local) or object key (S3). */
  key: string;
  bytes: number;
  lastModified: Date;
  etag?: string;
}
