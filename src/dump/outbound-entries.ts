// The archive entries that could reach outside staging, decided from the TOC before anything is
// restored: user mappings (credentials for other servers), subscriptions and publications, and
// pg_cron's job rows are left out; event triggers are held back until everything else is
// restored, so they never fire on the restore's own DDL and are disabled as soon as they exist.
import type { NeutralizeKeep } from '../config/schema.js';
import type { NeutralizedRecord } from '../record/run-record.js';
import type { TocEntry } from './toc.js';

/** What the restore leaves out, what it restores last, and the listing without either. */
export interface OutboundEntries {
  /** Entries never restored, with the record of each. */
  skipped: { entry: TocEntry; record: NeutralizedRecord }[];
  /** EVENT TRIGGER entries: restored in a pass of their own after post-data, then disabled. */
  deferred: TocEntry[];
  /** The archive listing with skipped and deferred entries commented out (a `-L` file). */
  listing: string;
}

/** Splits the archive's entries into skipped, deferred and the rest. */
export function outboundEntries(
  listing: string,
  entries: readonly TocEntry[],
  keep: readonly NeutralizeKeep[],
): OutboundEntries {
  const kept = (kind: NeutralizeKeep['kind'], name: string) =>
    keep.some((entry) => entry.kind === kind && entry.name === name);
  const keepsCronJobs = keep.some((entry) => entry.kind === 'cron-job');
  const skipped: OutboundEntries['skipped'] = [];
  const deferred: TocEntry[] = [];
  for (const entry of entries) {
    if (entry.type === 'USER MAPPING') {
      const server = /\bSERVER (.+)$/.exec(entry.name)?.[1] ?? '';
      if (kept('foreign-server', server)) continue;
      const user = /^USER MAPPING (.+) SERVER /.exec(entry.name)?.[1] ?? '?';
      skipped.push({
        entry,
        record: {
          kind: 'user-mapping',
          name: `${user}@${server}`,
          action: 'not-restored',
          detail: `credentials of ${user} for foreign server ${server}`,
        },
      });
    } else if (entry.type === 'SUBSCRIPTION' || entry.type === 'PUBLICATION') {
      const kind = entry.type === 'SUBSCRIPTION' ? 'subscription' : 'publication';
      skipped.push({
        entry,
        record: {
          kind,
          name: entry.name,
          action: 'not-restored',
          detail:
            kind === 'subscription'
              ? 'logical replication from another server'
              : 'logical replication to other servers',
        },
      });
    } else if (
      entry.type === 'TABLE DATA' &&
      entry.schema === 'cron' &&
      entry.name === 'job' &&
      !keepsCronJobs
    ) {
      skipped.push({
        entry,
        record: {
          kind: 'cron-job',
          name: 'cron.job',
          action: 'not-restored',
          detail: "pg_cron's scheduled jobs (the rows of cron.job) were left out of the restore",
        },
      });
    } else if (entry.type === 'EVENT TRIGGER') {
      deferred.push(entry);
    }
  }
  const commented = new Set([...skipped.map((s) => s.entry.line), ...deferred.map((e) => e.line)]);
  return { skipped, deferred, listing: commentOut(listing, commented) };
}

/** A `-L` list restoring only `entries` (the listing's header kept). */
export function onlyEntries(listing: string, entries: readonly TocEntry[]): string {
  const wanted = new Set(entries.map((entry) => entry.line));
  return listing
    .split('\n')
    .filter((line) => line.startsWith(';') || wanted.has(line.trimEnd()))
    .join('\n');
}

/** The listing with these entries commented out (a `-L` list restoring everything else). */
export function withoutEntries(listing: string, entries: readonly TocEntry[]): string {
  return commentOut(listing, new Set(entries.map((entry) => entry.line)));
}

function commentOut(listing: string, lines: ReadonlySet<string>): string {
  if (lines.size === 0) return listing;
  return listing
    .split('\n')
    .map((line) => (lines.has(line.trimEnd()) ? `;${line}` : line))
    .join('\n');
}
