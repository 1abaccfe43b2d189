// The per-migration verdict: safe / review / dangerous, and why, in one sentence people can act
// on. Measured blocking on this production-sized copy is the main evidence; the locks say which
// statement caused it (and never allow more blocked time than they were held); lint gives the
// safer way to write that statement.
import { formatDuration } from '../../format/duration.js';
import { isBookkeepingTable } from '../../observe/bookkeeping-tables.js';
import type {
  BlockingRecord,
  LintRecord,
  LockRecord,
  MigrationRecord,
  StatementRecord,
} from '../../record/run-record.js';
import { blocksReads, blocksWrites, LOCK_MODES } from '../../sql/lock-conflicts.js';

export interface VerdictInput {
  status: MigrationRecord['status'];
  durationMs: number;
  locks: readonly LockRecord[];
  blocking: readonly BlockingRecord[];
  lint: readonly LintRecord[];
  errorMessage?: string | undefined;
  /** Measured blocking at or above this is dangerous. */
  dangerousMs: number;
  /** The statements run, in order (lock records point into them by index). */
  statements?: readonly StatementRecord[];
  /** Relations created by this migration (bare or qualified): nobody else can be using them. */
  createdHere?: readonly string[];
  /** The tool's configured history table(s), besides the well-known ones. */
  historyTables?: readonly string[];
  /** Did the statements run in one transaction (locks held until COMMIT)? */
  transactional?: boolean;
}

type BlockKind = 'reads' | 'writes' | 'row updates';

/** One kind of blocking on one relation, as much as the lock evidence allows, with its cause. */
interface Block {
  relation: string;
  kind: BlockKind;
  ms: number;
  measured: boolean;
  cause: LockRecord | undefined;
}

const rank = (mode: string) => LOCK_MODES.indexOf(mode as (typeof LOCK_MODES)[number]);
const bare = (name: string) => name.slice(name.lastIndexOf('.') + 1);
const MODE_NAMES: Record<string, string> = {
  AccessShareLock: 'ACCESS SHARE',
  RowShareLock: 'ROW SHARE',
  RowExclusiveLock: 'ROW EXCLUSIVE',
  ShareUpdateExclusiveLock: 'SHARE UPDATE EXCLUSIVE',
  ShareLock: 'SHARE',
  ShareRowExclusiveLock: 'SHARE ROW EXCLUSIVE',
  ExclusiveLock: 'EXCLUSIVE',
  AccessExclusiveLock: 'ACCESS EXCLUSIVE',
};

/** Does a lock (on the relation or one of its indexes) stop this kind of operation? */
function stops(kind: BlockKind, lock: LockRecord): boolean {
  if (kind === 'reads') return blocksReads(lock.mode);
  if (kind === 'writes') return blocksWrites(lock.mode);
  // A row lock exists only while the migration holds ROW EXCLUSIVE or stronger on the table
  // (it changed rows, until its transaction ends); table locks that stop FOR UPDATE count too.
  return rank(lock.mode) >= rank('RowExclusiveLock');
}

/** Length of the union of the locks' [acquired, acquired + waited + held] intervals. */
function evidenceMs(locks: readonly LockRecord[]): number {
  const intervals = locks
    .map((lock) => {
      const from = lock.acquiredAtMs ?? 0;
      return [from, from + lock.heldMs + (lock.waitedMs ?? 0)] as const;
    })
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [from, to] of intervals) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

function lockedOn(relation: string, lock: LockRecord): boolean {
  return lock.relation === relation || lock.table === relation;
}

/** " (line N)" when the statement's line is known (statements seen from another tool have none). */
function at(statement: StatementRecord): string {
  return statement.line > 0 ? ` (line ${statement.line})` : '';
}

/** A statement as a short one-line quote. */
function quote(statement: StatementRecord): string {
  const text = statement.sql.replace(/\s+/g, ' ').trim().replace(/;$/, '');
  return `\`${text.length > 70 ? `${text.slice(0, 67)}…` : text}\``;
}

/**
 * The probes' measurements, each no longer than the locks allow: reads and writes by the locks
 * on the relation (or its indexes) that stop them, row updates by the locks that show the
 * migration changed rows there. A probe that timed out just after a short lock was released
 * measured its own timeout, not the migration (TRUNCATE: 194 ms held, not 1 s blocked).
 */
export function capBlocking(
  blocking: readonly BlockingRecord[],
  locks: readonly LockRecord[],
): BlockingRecord[] {
  return blocking.map((b) => {
    const cap = (kind: BlockKind, ms: number) =>
      Math.round(
        Math.min(ms, evidenceMs(locks.filter((lock) => lockedOn(b.relation, lock) && stops(kind, lock)))),
      );
    const reads = cap('reads', b.readsBlockedMs);
    const writes = cap('writes', b.writesBlockedMs);
    return {
      ...b,
      readsBlockedMs: reads,
      writesBlockedMs: writes,
      longestReadBlockMs: Math.min(b.longestReadBlockMs, reads),
      longestWriteBlockMs: Math.min(b.longestWriteBlockMs, writes),
      ...(b.rowUpdatesBlockedMs !== undefined && {
        rowUpdatesBlockedMs: cap('row updates', b.rowUpdatesBlockedMs),
        longestRowUpdateBlockMs: Math.min(
          b.longestRowUpdateBlockMs ?? 0,
          cap('row updates', b.rowUpdatesBlockedMs),
        ),
      }),
    };
  });
}

/** Decides the verdict and says why. */
export function decideVerdict(input: VerdictInput): Pick<MigrationRecord, 'verdict' | 'why'> {
  if (input.status === 'failed') {
    return {
      verdict: 'dangerous',
      why: `it failed here: ${input.errorMessage ?? 'see the error'}; the deploy would fail the same way`,
    };
  }
  const created = new Set(input.createdHere ?? []);
  // Not the tool's history, not created here, not a temporary relation of the migration's own session.
  const relevant = (relation: string) =>
    !isBookkeepingTable(relation, input.historyTables) &&
    !created.has(relation) &&
    !created.has(bare(relation)) &&
    !relation.startsWith('pg_temp') &&
    !relation.startsWith('transient relation');
  const locks = input.locks.filter(
    (lock) => relevant(lock.relation) && (!lock.table || relevant(lock.table)),
  );

  const blocks: Block[] = [];
  for (const b of input.blocking) {
    if (!relevant(b.relation)) continue;
    const measured: [BlockKind, number][] = [
      ['reads', b.readsBlockedMs],
      ['writes', b.kind === 'matview' ? 0 : b.writesBlockedMs],
      ['row updates', b.rowUpdatesBlockedMs ?? 0],
    ];
    for (const [kind, ms] of measured) {
      if (ms <= 0) continue;
      const evidence = locks.filter((lock) => lockedOn(b.relation, lock) && stops(kind, lock));
      // Blocked time never exceeds what the locks allow: a probe that timed out right after a
      // short lock was released measured its own timeout, not the migration.
      const allowed = Math.min(ms, evidenceMs(evidence));
      if (allowed <= 0) continue;
      blocks.push({
        relation: b.relation,
        kind,
        ms: allowed,
        measured: true,
        cause: causeOf(evidence, b.relation),
      });
    }
  }
  // Relations nobody probed: a lock that blocks reads or writes, held this long, blocks them that long.
  const probed = new Set(input.blocking.map((b) => b.relation));
  for (const lock of locks) {
    const table = lock.kind === 'i' || lock.kind === 'I' ? lock.table : lock.relation;
    if (!table || probed.has(table)) continue;
    if (!['r', 'p', 'm', 'i', 'I'].includes(lock.kind ?? '')) continue;
    const reads = blocksReads(lock.mode);
    const writes = blocksWrites(lock.mode) && lock.kind !== 'm';
    if (!reads && !writes) continue;
    blocks.push({
      relation: table,
      kind: reads ? 'reads' : 'writes',
      ms: lock.heldMs + (lock.waitedMs ?? 0),
      measured: false,
      cause: lock,
    });
  }
  blocks.sort((a, b) => b.ms - a.ms);
  // Of blocks about as long as the longest, headline the one people notice first: reads, then
  // writes, then row updates (a table lock stops all three for the same time).
  const KIND_ORDER: BlockKind[] = ['reads', 'writes', 'row updates'];
  const worst = blocks
    .filter((b) => blocks[0] && b.ms >= 0.9 * blocks[0].ms)
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind))[0];
  const errors = input.lint.filter((finding) => finding.severity === 'error');
  const warnings = input.lint.filter((finding) => finding.severity === 'warning');

  const cause = worst ? describeCause(worst, input) : undefined;
  const safer = worst && cause ? saferFor(worst, cause.lines, input) : '';
  if (worst && cause && worst.ms >= input.dangerousMs) {
    return {
      verdict: 'dangerous',
      why: `${headline(worst)}${otherBlocks(blocks, worst)}${cause.text}${safer}`,
    };
  }
  if (worst || errors.length > 0 || warnings.length > 0) {
    const findings = [...new Set([...errors, ...warnings].map((f) => f.rule))];
    const parts = [
      ...(worst && cause ? [`${headline(worst)}${cause.text}`] : []),
      ...(findings.length > 0 ? [`lint: ${findings.join(', ')}`] : []),
    ];
    const fix = worst ? safer : errors[0]?.fix ? `; safer: ${errors[0].fix}` : '';
    return {
      verdict: 'review',
      why: `${parts.join('; ')}; short here (${formatDuration(input.durationMs)}), but ${errors.length > 0 ? 'unsafe as written' : 'check it'} on a busier or bigger table${fix}`,
    };
  }
  return {
    verdict: 'safe',
    why: `ran in ${formatDuration(input.durationMs)} without blocking reads, writes or row updates`,
  };
}

/**
 * The lock that explains a block: the longest held (waits included), the stronger on a tie; a
 * lock on the relation itself is preferred to one on its index when held about as long.
 */
function causeOf(evidence: readonly LockRecord[], relation: string): LockRecord | undefined {
  const score = (lock: LockRecord) => lock.heldMs + (lock.waitedMs ?? 0);
  let best: LockRecord | undefined;
  for (const lock of evidence) {
    if (
      !best ||
      score(lock) > score(best) + 1 ||
      (Math.abs(score(lock) - score(best)) <= 1 && rank(lock.mode) > rank(best.mode))
    )
      best = lock;
  }
  if (!best || best.relation === relation) return best;
  const own = evidence
    .filter((lock) => lock.relation === relation && score(lock) >= 0.9 * score(best as LockRecord))
    .sort((x, y) => rank(y.mode) - rank(x.mode))[0];
  return own ?? best;
}

function headline(block: Block): string {
  const what = block.measured ? 'blocked for' : 'blocked (not probed; lock held) for';
  return `${block.kind} on ${block.relation} ${what} ${formatDuration(block.ms)}`;
}

function otherBlocks(blocks: readonly Block[], worst: Block): string {
  const rest = blocks
    .filter((b) => b !== worst && b.ms > 0)
    .slice(0, 2)
    .map((b) => `${b.kind} on ${b.relation} ${formatDuration(b.ms)}`);
  return rest.length ? ` (also ${rest.join(', ')})` : '';
}

/**
 * Names the statement and lock behind a block: the statement that took the lock and, when the
 * lock stayed held through a longer statement of the same transaction, that statement too.
 */
function describeCause(block: Block, input: VerdictInput): { text: string; lines: number[] } {
  const lock = block.cause;
  if (!lock) return { text: '', lines: [] };
  const statements = input.statements ?? [];
  const taker = lock.statement !== undefined ? statements[lock.statement] : undefined;
  const mode = MODE_NAMES[lock.mode] ?? lock.mode;
  const on = lock.relation === block.relation ? '' : ` on ${lock.relation}`;
  const documented = lock.source === 'documented' ? ' (its documented lock: held too briefly to sample)' : '';
  if (block.kind === 'row updates' && rank(lock.mode) === rank('RowExclusiveLock') && taker) {
    const rows =
      taker.rows !== undefined && taker.rows !== null
        ? ` changed ${taker.rows.toLocaleString('en')} rows and`
        : '';
    const until =
      input.transactional && (lock.statement ?? 0) < statements.length - 1
        ? 'the migration commits'
        : 'it ends';
    return {
      text: `: ${quote(taker)}${at(taker)}${rows} keeps every row it changed locked until ${until}`,
      lines: [taker.line],
    };
  }
  if (!taker)
    return { text: `: ${mode}${on} held for ${formatDuration(lock.heldMs)}${documented}`, lines: [] };
  // Held through a later, longer statement of the same transaction?
  const later = statements
    .slice((lock.statement ?? 0) + 1)
    .filter((s) => s.inTransaction !== false && input.transactional !== false)
    .reduce<StatementRecord | undefined>(
      (longest, s) => (!longest || s.durationMs > longest.durationMs ? s : longest),
      undefined,
    );
  const through =
    later && later.durationMs > taker.durationMs && lock.heldMs > taker.durationMs * 1.5 ? later : undefined;
  const text = through
    ? `: ${mode}${on} taken by ${quote(taker)}${at(taker)} and held until COMMIT through ${quote(through)} (${through.line > 0 ? `line ${through.line}, ` : ''}${formatDuration(through.durationMs)})`
    : `: ${mode}${on} held by ${quote(taker)}${at(taker)} for ${formatDuration(lock.heldMs)}${documented}`;
  return { text, lines: through ? [taker.line, through.line] : [taker.line] };
}

/** Lint rules that explain a cause, most specific first. */
const CAUSE_RULES = [
  'add-column-then-backfill',
  'drop-and-create-index-in-transaction',
  'whole-table-update',
  'refresh-matview-without-concurrently',
  'attach-partition-without-check',
  'require-concurrent-index',
  'drop-index-without-concurrently',
  'table-rewrite-command',
  'add-column-volatile-default',
  'alter-column-type',
  'constraint-without-not-valid',
  'unique-constraint-without-index',
  'set-not-null',
  'truncate',
];
/** Advice about how to wait, not about what blocks: only when nothing else fits. */
const LAST_RULES = ['missing-lock-timeout'];

/** The "safer" advice that fits the cause: a lint fix about those statements, else one about the lock. */
function saferFor(block: Block, lines: readonly number[], input: VerdictInput): string {
  const table = bare(block.relation);
  const about = input.lint.filter(
    (finding) => finding.fix && lines.includes(finding.line) && finding.severity !== 'info',
  );
  const order = (rule: string) => (LAST_RULES.includes(rule) ? 1000 : CAUSE_RULES.indexOf(rule) + 1 || 99);
  const ranked = [...about].sort(
    (a, b) =>
      order(a.rule) - order(b.rule) || (a.severity === 'error' ? 0 : 1) - (b.severity === 'error' ? 0 : 1),
  );
  const finding = ranked[0];
  if (finding) return `; safer (${finding.rule}): ${finding.fix}`;
  if (lines.length === 0) return '';
  if (block.kind === 'row updates')
    return `; safer: change the rows of ${table} in batches of a few thousand, each committed on its own, so no row stays locked for long`;
  if (lines.length > 1)
    return `; safer: commit the statement that takes the lock on its own (with SET lock_timeout) and do the long work in separate transactions`;
  return block.cause?.mode === 'AccessExclusiveLock'
    ? `; safer: SET lock_timeout before it, and run it when ${table} is quiet or in a form that takes a weaker lock`
    : '';
}
