// Warms a thread's masking code before its first table: V8 runs new code in its interpreter, then
// compiles what is hot, and compiles it again once a second table's closures arrive (the first
// compile was specialised to the first table's). Measured on one core, a fresh thread masked a
// 50k-row users table in ~0.27 s, a second table of the same rules in ~0.16 s and a third in
// ~0.09 s: up to two thirds of a small table's time was warming up, and a thread pays it at its
// first two tables. This masks made-up rows under the run's own rules through four throwaway
// transforms, in short slices, while the main thread would wait anyway (the backup being located,
// downloaded and inspected); it stops when `signal` aborts. Stream workers are not warmed (on a
// tool with no core to spare, a worker warming itself would compete with the tables streaming).
// Nothing it masks is kept: outputs, caches and unique claims belong to the throwaway transforms.
import { tmpdir } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ColumnRule, Config } from '../config/schema.js';
import { ident } from '../infra/pg/connection.js';
import { BytesMemo } from './bytes-memo.js';
import { ByteSink } from './copy-bytes.js';
import { CopyLines } from './copy-lines.js';
import { exerciseLedgerIndex, KeyRecorder } from './output-ledger.js';
import { KeyedPrf } from './prf/keyed-prf.js';
import { ruleMisfit, ruleParts, type StrategyName, usesRow } from './strategies/registry.js';
import { compileTableTransform } from './table-transform.js';
import { exerciseOwedClaims } from './unique-masker.js';

/** The rules a run masks with: anonymize's tables (truncated ones have none), domain and secret. */
export type WarmRules = Pick<Config['anonymize'], 'tables' | 'domain' | 'secret'>;

/** Rows per warmed table and transform: ~2 blocks of a real table. */
const ROWS = 6_000;
/** Rows per warmed table and transform also masked as strings, line by line. */
const STRING_ROWS = 1_000;
/** Rows masked between two turns of the event loop (a few milliseconds). */
const SLICE = 1_500;
/** At most this many tables warmed: the code is shared by every table, not owned by one. */
const TABLES = 8;

/** Made-up values a strategy masks without refusing them, by row number; none: not warmed. */
// Shaped like a real column's values, or the real table meets paths the warm-up never took and V8
// compiles its code again on the core masking it (measured: a users table's first 50k rows
// recompiled 80 ms of code): mostly plain ASCII, so that a unique column's claims run long enough
// to grow their table; names mostly distinct, so that the cache misses and its fake is made.
const VALUES: Partial<Record<StrategyName, (row: number) => string>> = {
  email: (row) =>
    `${row % 97 === 0 ? 'Zoë' : ASCII_NAMES[row % 7]}.${ASCII_SURNAMES[row % 11]}${row}@${row % 3 ? 'example.com' : 'Mail.Example.org'}`,
  fake: (row) =>
    row % 4 === 0
      ? `${NAMES[row % 7]} ${SURNAMES[(row * 7) % 11]}`
      : `${NAMES[row % 7]} ${String.fromCharCode(65 + (row % 26))}. ${SURNAMES[(row * 7) % 11]}-${row}`,
  mask: (row) => `+44 20 ${String(7946_0000 + row).padStart(8, '0')}`,
  shift: (row) =>
    row % 5 === 0
      ? `20${String(row % 25).padStart(2, '0')}-0${1 + (row % 9)}-1${row % 10} 12:34:56.789+00`
      : `19${50 + (row % 50)}-${String(1 + (row % 12)).padStart(2, '0')}-${String(1 + (row % 28)).padStart(2, '0')}`,
  hash: (row) => `GB${String(row % 89).padStart(2, '0')}NWBK6016133192${String(row).padStart(4, '0')}`,
  null: (row) => String(row),
  fixed: (row) => String(row),
  scramble: (row) => `${SURNAMES[row % 11]} ${row}`,
  ip: (row) => `10.${(row >> 16) & 255}.${(row >> 8) & 255}.${row & 255}`,
};
const NAMES = ['Ada', 'Grace', 'Linus', 'Zoë', 'Edsger', 'Barbara', 'Ken'];
const ASCII_NAMES = NAMES.map((name) => name.normalize('NFKD').replace(/[^\x20-\x7e]/g, ''));
const SURNAMES = [
  'Lovelace',
  'Hopper',
  'Torvalds',
  'Müller',
  'Dijkstra',
  'Liskov',
  "O'Brien",
  'Thompson',
  'Ritchie',
  'Nakamura',
  'Knuth',
];
const ASCII_SURNAMES = SURNAMES.map((name) => name.normalize('NFKD').replace(/[^a-zA-Z]/g, ''));

/** The made-up values for a rule: where its strategy has them and it reads only the value. */
const valuesFor = (rule: ColumnRule): ((row: number) => string) | undefined =>
  usesRow(rule) ? undefined : VALUES[ruleParts(rule).name];

/**
 * One rule set's made-up table: its COPY text, more lines of it for the string path (rows of
 * their own: the same values again would all collide in a unique column), and the column a
 * unique key could be on.
 */
interface MadeUpTable {
  rules: Record<string, ColumnRule>;
  copy: Buffer;
  strings: string[];
  unique: string | undefined;
}

/** Each ruled column a made-up value suits, between unruled ones; a NULL now and then. */
function madeUpTable(rules: Readonly<Record<string, ColumnRule>>): MadeUpTable | undefined {
  const columns: [string, ColumnRule, (row: number) => string][] = [];
  for (const [column, rule] of Object.entries(rules)) {
    const value = valuesFor(rule);
    if (value) columns.push([column, rule, value]);
  }
  if (columns.length === 0) return undefined;
  // Unruled columns around them, as a real row has (a key first; a text and a timestamp copied
  // as they are after), under names no rule uses.
  const free = (name: string) => {
    let unused = name;
    while (unused in rules) unused += '_';
    return ident(unused);
  };
  const ruled = columns.map(([column]) => ident(column)).join(', ');
  const line = (row: number) => {
    // A NULL now and then: each one takes the string path, which settles a unique column's claims.
    const fields = columns.map(([, , value], index) => ((row + index) % 401 === 0 ? '\\N' : value(row)));
    const at = `2024-${String(1 + (row % 12)).padStart(2, '0')}-1${row % 10} 0${row % 10}:${10 + (row % 50)}:00.${row}+00`;
    return `${row + 1}\t${fields.join('\t')}\t${row % 3 ? 'GB' : 'a longer note, plain'}\t${at}`;
  };
  const lines = [`COPY warm (${free('id')}, ${ruled}, ${free('note')}, ${free('at')}) FROM stdin;\n`];
  for (let row = 0; row < ROWS; row++) lines.push(`${line(row)}\n`);
  return {
    rules: Object.fromEntries(columns.map(([column, rule]) => [column, rule])),
    copy: Buffer.from(lines.join('')),
    strings: Array.from({ length: STRING_ROWS }, (_, index) => line(ROWS + index)),
    unique: columns.find(([, rule]) => ruleMisfit(rule, { type: 'text', unique: true }) === undefined)?.[0],
  };
}

/**
 * Masks made-up rows under up to eight of the masked tables' rule sets: each through four
 * transforms (two with a unique column where a rule can keep one, two without: the paths a
 * table's column can take), in slices of ~1,500 rows. Resolves with the rows masked when done or
 * stopped; never rejects: a rule set the made-up values do not suit is left cold.
 */
export async function warmMasking(rules: WarmRules, signal: AbortSignal): Promise<number> {
  let masked = 0;
  try {
    // Rule sets it can make values for, up to TABLES; each table's rows made when it is reached.
    const sets = Object.values(rules.tables)
      .filter((table): table is Readonly<Record<string, ColumnRule>> => table !== 'truncate')
      .filter((table) => Object.values(table).some((rule) => valuesFor(rule) !== undefined))
      .slice(0, TABLES);
    warmGrowth();
    warmLedger();
    // The PRF a run's tables in this thread will use: its kernels are warmed, not a copy's.
    const prf = KeyedPrf.of(rules.secret ?? '');
    for (const keepsUnique of [true, true, false, false]) {
      for (const set of sets) {
        masked += await warmOne(set, keepsUnique, prf, rules.domain, signal);
        if (signal.aborted) return masked;
      }
    }
    // And again last: run only first, its code went cold again by the end of the masking passes
    // (measured on Node 24, one core: a 50k-row users table's clash search 9–12 ms after a
    // warm-up that ran it first only, 2–5 ms after one that runs it last too).
    warmLedger();
  } catch {
    // Warming is an optimisation: whatever fails here is left to the restore to meet, if real.
  }
  return masked;
}

/** A unique column's ledger, after the stream (its files in the OS's temp directory). */
function warmLedger(): void {
  try {
    exerciseLedgerIndex(tmpdir());
  } catch {
    // No temp directory to write: that code is left cold.
  }
}

/**
 * The growth paths of a column's cache of repeated values (its arena outgrown, its table cleared)
 * and of a unique column's owed claims, on the types a table gives them: a real table of a few
 * thousand rows reaches them and made-up rows do not, and code first run in a real table is
 * compiled again there (measured: ~10 ms of compiling on the core masking a 50k-row table).
 */
function warmGrowth(): void {
  const source = Buffer.from(Array.from({ length: 4096 }, (_, index) => `value-${index}\t`).join(''));
  const memo = new BytesMemo(1024);
  const sink = new ByteSink(1 << 16);
  for (let start = 0; start < source.length; ) {
    const end = source.indexOf(9, start);
    if (!memo.hit(source, start, end, sink)) {
      const at = sink.length;
      sink.copy(source, start, end);
      memo.store(source, start, end, sink, at);
    }
    start = end + 1;
  }
  exerciseOwedClaims(source);
}

/** One rule set through one throwaway transform; the rows masked (0: its values were refused). */
async function warmOne(
  rules: Readonly<Record<string, ColumnRule>>,
  keepsUnique: boolean,
  prf: KeyedPrf,
  domain: string,
  signal: AbortSignal,
): Promise<number> {
  const table = madeUpTable(rules);
  if (!table) return 0;
  const unique = new Set(keepsUnique && table.unique !== undefined ? [table.unique] : []);
  // A unique column's outputs' keys are recorded, as a run's streams record them (output-ledger.ts).
  const recorder = new KeyRecorder();
  const lines = new CopyLines((header) =>
    compileTableTransform('warm-up', header, table.rules, new Map(), prf, domain, unique, {
      ledger: () => recorder,
    }),
  );
  let masked = 0;
  try {
    for (let from = 0; from < table.copy.length; ) {
      if (signal.aborted) break;
      // ~SLICE whole lines (the made-up lines are of similar length).
      const guess = from + Math.ceil((table.copy.length / ROWS) * SLICE);
      const end = guess >= table.copy.length ? table.copy.length : table.copy.indexOf(10, guess) + 1;
      const before = lines.rows;
      lines.push(table.copy.subarray(from, end));
      recorder.take();
      masked += lines.rows - before;
      from = end;
      await nextTurn();
    }
    // The string path, which a table's sampled rows (the leak check's) and escaped fields take:
    // a few hundred rows of a real table made it hot enough to compile there, on the core masking.
    const transform = lines.transform;
    if (transform && !signal.aborted) for (const text of table.strings) transform.line(text);
  } catch {
    // A value some option of a rule refuses: that rule set is left cold.
    return 0;
  }
  return masked;
}
