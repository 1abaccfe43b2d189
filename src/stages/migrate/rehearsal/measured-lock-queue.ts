// The lint's "set a lock_timeout" advice with its measured consequence: what the synthetic
// traffic saw queue behind the migration while it waited for its lock.
import { formatDuration } from '../../../format/duration.js';
import type { MigrationRecord } from '../../../record/run-record.js';

const RULE = 'missing-lock-timeout';

/** The record with the missing-lock-timeout finding's `measured` telling the lock queue under traffic. */
export function withMeasuredLockQueue(record: MigrationRecord): MigrationRecord {
  const traffic = record.traffic;
  if (!traffic || traffic.lockWaitMs === 0 || !record.lint.some((finding) => finding.rule === RULE))
    return record;
  const behind = traffic.waitedBehindLongTransaction
    ? ` behind a read transaction held ${formatDuration(traffic.longTransactionMs)}`
    : '';
  const dry =
    traffic.noConnection > 0
      ? `; the pool ran dry (${traffic.noConnection} operations found no connection)`
      : '';
  const queue = `under traffic it waited ${formatDuration(traffic.lockWaitMs)} for its lock${behind} while ${traffic.queued.writes} writes and ${traffic.queued.reads} reads queued behind it${dry}`;
  return {
    ...record,
    lint: record.lint.map((finding) =>
      finding.rule === RULE
        ? { ...finding, measured: finding.measured ? `${finding.measured}; ${queue}` : queue }
        : finding,
    ),
  };
}
