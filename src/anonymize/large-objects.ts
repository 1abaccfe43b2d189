// Large objects (pg_largeobject: scanned documents, photos, exports) hold bytes no column rule
// can mask. A backup that has them is reported before anything is restored: unless
// `anonymize.largeObjects` says drop or keep, they are an unruled PII finding (exit 78 under
// unknownPii: fail). Dropped, they are left out of the restore; kept, they are restored as they are.
import type { Config } from '../config/schema.js';
import type { AnonymizeRecord } from '../record/run-record.js';

/** The finding for `count` large objects, or undefined when there are none or a rule decides. */
export function largeObjectFinding(
  anonymize: Config['anonymize'],
  count: number,
): AnonymizeRecord['findings'][number] | undefined {
  if (count === 0) return undefined;
  if (anonymize.largeObjects === 'keep') {
    return {
      rule: 'large-objects',
      severity: 'warning',
      column: 'pg_largeobject',
      message: `${count} large object(s) restored unmasked (anonymize.largeObjects: keep)`,
    };
  }
  if (anonymize.largeObjects === 'drop') return undefined;
  return {
    rule: 'large-objects',
    severity: anonymize.unknownPii === 'fail' ? 'error' : 'warning',
    column: 'pg_largeobject',
    message: `the backup holds ${count} large object(s), whose contents no rule can mask: set anonymize.largeObjects: drop (left out of staging) or keep (restored as they are)`,
    suggest: 'drop',
  };
}

/** TOC entry types of large objects (PostgreSQL 15-16 write BLOB/BLOBS, 17 LARGE OBJECT/BLOB METADATA). */
export function isLargeObjectEntry(entry: { type: string; name: string }): boolean {
  return (
    entry.type === 'BLOB' ||
    entry.type === 'BLOBS' ||
    entry.type === 'BLOB METADATA' ||
    entry.type === 'LARGE OBJECT' ||
    ((entry.type === 'COMMENT' || entry.type === 'ACL' || entry.type === 'SECURITY LABEL') &&
      entry.name.startsWith('LARGE OBJECT '))
  );
}

/** A plain dump's statement that creates, fills, owns, comments or grants a large object. */
export function isLargeObjectStatement(sql: string): boolean {
  return (
    /^\s*SELECT\s+pg_catalog\.(lo_create|lo_open|lowrite|lo_close)\s*\(/i.test(sql) ||
    /^\s*(ALTER|COMMENT\s+ON|GRANT|REVOKE|SECURITY\s+LABEL)\b[^;]*\bLARGE\s+OBJECT\b/i.test(sql)
  );
}
