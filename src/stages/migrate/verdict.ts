// The per-migration verdict: safe / review / dangerous, and why, in one sentence people can act
// on. Measured blocking on this production-sized copy is the main evidence; lint explains it.
import { formatDuration } from '../../config/duration.js';
import type { BlockingRecord, LintRecord, LockRecord, MigrationRecord } from '../../record/run-record.js';
import { blocksReads, blocksWrites } from '../../sql/lock-conflicts.js';

export interface VerdictInput {
  status: MigrationRecord['status'];
  durationMs: number;
  locks: readonly LockRecord[];
  blocking: readonly BlockingRecord[];
  lint: readonly LintRecord[];
  errorMessage?: string | undefined;
  /** Measured blocking at or above this is dangerous. */
  dangerousMs: number;
}

/** Decides the verdict and says why. */
export function decideVerdict(input: VerdictInput): Pick<MigrationRecord, 'verdict' | 'why'> {
  if (input.status === 'failed') {
    return {
      verdict: 'dangerous',
      why: `it failed here: ${input.errorMessage ?? 'see the error'}; the deploy would fail the same way`,
    };
  }
  const worstWrite = maxBy(input.blocking, (b) => b.writesBlockedMs);
  const worstRead = maxBy(input.blocking, (b) => b.readsBlockedMs);
  // Tables and views others can use; indexes and transient relations follow their table.
  const blockingLocks = input.locks.filter(
    (lock) =>
      ['r', 'p', 'm', 'v'].includes(lock.kind ?? '') && (blocksWrites(lock.mode) || blocksReads(lock.mode)),
  );
  const longestBlockingLock = maxBy(blockingLocks, (lock) => lock.heldMs);
  const errors = input.lint.filter((finding) => finding.severity === 'error');
  const reasons: string[] = [];
  if (worstRead && worstRead.readsBlockedMs > 0) {
    reasons.push(`reads on ${worstRead.relation} blocked for ${formatDuration(worstRead.readsBlockedMs)}`);
  }
  if (worstWrite && worstWrite.writesBlockedMs > 0) {
    reasons.push(
      `writes on ${worstWrite.relation} blocked for ${formatDuration(worstWrite.writesBlockedMs)}`,
    );
  }
  const measured = Math.max(worstWrite?.writesBlockedMs ?? 0, worstRead?.readsBlockedMs ?? 0);
  // Unprobed tables: a lock that blocks writes or reads, held this long, blocks them that long.
  const unprobed =
    longestBlockingLock && !input.blocking.some((b) => b.relation === longestBlockingLock.relation)
      ? longestBlockingLock.heldMs
      : 0;
  if (unprobed > 0 && longestBlockingLock) {
    reasons.push(
      `${longestBlockingLock.mode} held on ${longestBlockingLock.relation} for ${formatDuration(unprobed)}`,
    );
  }
  const fix = errors[0]?.fix ? `; safer: ${errors[0].fix}` : '';
  if (Math.max(measured, unprobed) >= input.dangerousMs) {
    return {
      verdict: 'dangerous',
      why: `${reasons.join(', ')}${errors[0] ? ` (${errors[0].rule})` : ''}${fix}`,
    };
  }
  if (
    errors.length > 0 ||
    input.lint.some((finding) => finding.severity === 'warning') ||
    measured > 0 ||
    unprobed > 0
  ) {
    const findings = input.lint.filter((f) => f.severity !== 'info').map((f) => f.rule);
    const parts = [
      ...reasons,
      ...(findings.length > 0 ? [`lint: ${[...new Set(findings)].join(', ')}`] : []),
    ];
    return {
      verdict: 'review',
      why: `${parts.join('; ')}; short here (${formatDuration(input.durationMs)}), but ${errors.length > 0 ? 'unsafe as written' : 'check it'} on a busier or bigger table${fix}`,
    };
  }
  return {
    verdict: 'safe',
    why: `ran in ${formatDuration(input.durationMs)} without blocking reads or writes`,
  };
}

function maxBy<T>(items: readonly T[], value: (item: T) => number): T | undefined {
  let best: T | undefined;
  for (const item of items) if (best === undefined || value(item) > value(best)) best = item;
  return best;
}
