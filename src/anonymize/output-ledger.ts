// A unique masked column's outputs, kept on disk instead of in memory. The stream writes each
// row's plain output and records its 64-bit key (the one unique-masker.ts claims by); each
// block's keys are appended, in the blocks' order, to a ledger file, 8 bytes a row in stream
// order: memory holds one write buffer, whatever the table's size, and a block may be masked on
// any thread (block-masker.ts splits such a table too).
// After the stream, LedgerIndex finds the rows whose output an earlier row already wrote — the
// rows unique-masker.ts would have re-keyed — by splitting the ledger into partitions by key,
// each small enough to sort out in a bounded table (unique-repair.ts re-keys them in the table).
import { closeSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fmix32 } from './prf/keyed-prf.js';

/** Keys a ledger buffers before it writes them (8 bytes each). */
const WRITE_KEYS = 64 * 1024;
/** Rows at most in one partition of the index: its table of first rows is ~12 bytes a row, twice over. */
export const PARTITION_ROWS = 256 * 1024;

/**
 * The keys of the rows one block masked, recorded as it masks them (in whichever thread masks
 * the block) and handed on with the block: the ledger takes blocks' keys in the blocks' order.
 */
export class KeyRecorder {
  private keys = new Uint32Array(2 * 4096);
  private at = 0;

  /** A row's output, by its key (lo, hi). */
  record(lo: number, hi: number): void {
    if (this.at === this.keys.length) this.grow();
    // All zero marks a NULL: a key that is all zero is kept as (1, 0), as OutputSet keeps it.
    this.keys[this.at] = lo === 0 && hi === 0 ? 1 : lo;
    this.keys[this.at + 1] = hi;
    this.at += 2;
  }

  /** A row whose output is NULL (NULLs never collide). */
  recordNull(): void {
    if (this.at === this.keys.length) this.grow();
    this.keys[this.at] = 0;
    this.keys[this.at + 1] = 0;
    this.at += 2;
  }

  /** The keys recorded since the last take, in an array of their own (it may be transferred). */
  take(): Uint32Array {
    const taken = this.keys.slice(0, this.at);
    this.at = 0;
    return taken;
  }

  private grow(): void {
    const grown = new Uint32Array(this.keys.length * 2);
    grown.set(this.keys);
    this.keys = grown;
  }
}

/** What each column's recorder holds for the block just masked; none without recorders. */
export function takeKeys(
  recorders: ReadonlyMap<string, KeyRecorder>,
): Record<string, Uint32Array> | undefined {
  if (recorders.size === 0) return undefined;
  return Object.fromEntries([...recorders].map(([column, recorder]) => [column, recorder.take()]));
}

/** A column's keys, one a row in stream order, appended block by block to a file. */
export class OutputLedger {
  rows = 0;
  private readonly fd: number;
  private readonly buffer = new Uint32Array(2 * WRITE_KEYS);
  private at = 0;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'wx', 0o600);
  }

  /** A block's keys (KeyRecorder.take), after the blocks before it. */
  append(keys: Uint32Array): void {
    this.rows += keys.length / 2;
    if (this.at + keys.length > this.buffer.length) this.spill();
    if (keys.length >= this.buffer.length) {
      writeAll(this.fd, new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength));
      return;
    }
    this.buffer.set(keys, this.at);
    this.at += keys.length;
  }

  /** Writes what is buffered and closes the file. */
  close(): { path: string; rows: number } {
    if (!this.closed) {
      this.spill();
      closeSync(this.fd);
      this.closed = true;
    }
    return { path: this.path, rows: this.rows };
  }

  /** Closes and deletes the file. */
  remove(): void {
    if (!this.closed) {
      closeSync(this.fd);
      this.closed = true;
    }
    rmSync(this.path, { force: true });
  }

  private spill(): void {
    if (this.at === 0) return;
    writeAll(this.fd, new Uint8Array(this.buffer.buffer, 0, this.at * 4));
    this.at = 0;
  }
}

/** Words per entry of a partition file: the key (lo, hi) and its row (low, high 32 bits). */
const ENTRY_WORDS = 4;
const TWO_32 = 2 ** 32;

/** Which partition (of 2^bits) a key falls in, and where in a partition's table it starts. */
const mix = (lo: number, hi: number) => fmix32((hi ^ Math.imul(lo, 0x9e3779b1)) >>> 0);

/**
 * A ledger split by key into partition files (16 bytes a row: key and row), each read alone:
 * memory is one partition's table, ~PARTITION_ROWS rows, whatever the ledger's size.
 */
export class LedgerIndex {
  private constructor(
    private readonly parts: string[],
    private readonly bits: number,
    /** The one part is the ledger itself (8 bytes a row, the row implicit): a ledger of one partition is not copied. */
    private readonly implicit = false,
  ) {}

  /** Splits `ledger` into partitions beside it. */
  static build(ledger: { path: string; rows: number }, partitionRows = PARTITION_ROWS): LedgerIndex {
    const size = statSync(ledger.path).size;
    if (size !== ledger.rows * 8)
      throw new Error(`${ledger.path}: the ledger holds ${size} bytes for ${ledger.rows} rows (8 a row)`);
    let bits = 0;
    while (ledger.rows / 2 ** bits > partitionRows) bits++;
    if (bits === 0) return new LedgerIndex([ledger.path], 0, true);
    const count = 2 ** bits;
    const parts = Array.from({ length: count }, (_, part) => `${ledger.path}.${part}`);
    const index = new LedgerIndex(parts, bits);
    // Each partition buffers its entries (~1 MiB over all of them, at least 1,024 entries each).
    const perPart = Math.max(1024, Math.floor((1024 * 1024) / count / 16));
    const buffers = parts.map(() => new Uint32Array(perPart * ENTRY_WORDS));
    const fill = new Int32Array(count);
    const fds: number[] = [];
    const flush = (part: number) => {
      const words = (fill[part] as number) * ENTRY_WORDS;
      if (words > 0)
        writeAll(fds[part] as number, new Uint8Array((buffers[part] as Uint32Array).buffer, 0, words * 4));
      fill[part] = 0;
    };
    try {
      for (const path of parts) fds.push(openSync(path, 'wx', 0o600));
      let row = 0;
      forEachChunk(ledger.path, 2, (keys, words) => {
        for (let at = 0; at < words; at += 2, row++) {
          const lo = keys[at] as number;
          const hi = keys[at + 1] as number;
          if (lo === 0 && hi === 0) continue;
          const part = index.partOf(lo, hi);
          const buffer = buffers[part] as Uint32Array;
          const put = (fill[part] as number) * ENTRY_WORDS;
          buffer[put] = lo;
          buffer[put + 1] = hi;
          buffer[put + 2] = row >>> 0;
          buffer[put + 3] = Math.floor(row / TWO_32);
          fill[part] = (fill[part] as number) + 1;
          if (fill[part] === perPart) flush(part);
        }
      });
      for (let part = 0; part < count; part++) flush(part);
    } catch (error) {
      for (const fd of fds) closeSync(fd);
      index.remove();
      throw error;
    }
    for (const fd of fds) closeSync(fd);
    return index;
  }

  /** The rows (ascending) whose key an earlier row already has. */
  clashes(): number[] {
    const clashes: number[] = [];
    for (const path of this.parts) {
      const table = new FirstRows(statSync(path).size / (this.implicit ? 8 : ENTRY_WORDS * 4));
      // Entries come in row order: a key found is an earlier row's.
      this.entries(path, (keys, rows, count) => {
        for (let entry = 0; entry < count; entry++) {
          const row = rows[entry] as number;
          if (!table.add(keys[entry * 2] as number, keys[entry * 2 + 1] as number, row)) clashes.push(row);
        }
      });
    }
    return clashes.sort((a, b) => a - b);
  }

  /**
   * Each entry of a part, in row order (a NULL row has none), a chunk at a time: its keys (lo, hi)
   * and rows. Each caller walks a chunk in its own loop: with a callback an entry, called from both
   * clashes() and firstRows() (the warm-up runs both), V8 inlined neither — ~100 ns an entry
   * instead of ~50, 8–12 % of a users table's time on one core.
   */
  private entries(path: string, each: (keys: Uint32Array, rows: Float64Array, count: number) => void): void {
    const keys = new Uint32Array(2 * CHUNK_ENTRIES);
    const rows = new Float64Array(CHUNK_ENTRIES);
    if (this.implicit) {
      let row = 0;
      forEachChunk(path, 2, (words, length) => {
        let count = 0;
        for (let at = 0; at < length; at += 2, row++) {
          const lo = words[at] as number;
          const hi = words[at + 1] as number;
          if (lo === 0 && hi === 0) continue;
          keys[count * 2] = lo;
          keys[count * 2 + 1] = hi;
          rows[count++] = row;
        }
        each(keys, rows, count);
      });
      return;
    }
    forEachChunk(path, ENTRY_WORDS, (words, length) => {
      let count = 0;
      for (let at = 0; at < length; at += ENTRY_WORDS, count++) {
        keys[count * 2] = words[at] as number;
        keys[count * 2 + 1] = words[at + 1] as number;
        rows[count] = rowOf(words, at);
      }
      each(keys, rows, count);
    });
  }

  /** The first row with each key ((lo, hi) pairs in `keys`); Infinity where no row has it. */
  firstRows(keys: Uint32Array): Float64Array {
    const found = new Float64Array(keys.length / 2).fill(Number.POSITIVE_INFINITY);
    const byPart = new Map<number, number[]>();
    for (let at = 0; at < keys.length; at += 2) {
      const lo = keys[at] as number;
      const hi = keys[at + 1] as number;
      const part = this.partOf(lo === 0 && hi === 0 ? 1 : lo, hi);
      const list = byPart.get(part) ?? [];
      list.push(at / 2);
      byPart.set(part, list);
    }
    for (const [part, asked] of byPart) {
      // Each distinct key asked gets an id; the partition's entries, in row order, give its first row.
      const table = new FirstRows(asked.length);
      let distinct = 0;
      const ids = asked.map((query) => {
        const lo = keys[query * 2] as number;
        const hi = keys[query * 2 + 1] as number;
        const key = lo === 0 && hi === 0 ? 1 : lo;
        return table.add(key, hi, distinct) ? distinct++ : (table.get(key, hi) as number);
      });
      const first = new Float64Array(distinct).fill(Number.POSITIVE_INFINITY);
      this.entries(this.parts[part] as string, (met, rows, count) => {
        for (let entry = 0; entry < count; entry++) {
          const id = table.get(met[entry * 2] as number, met[entry * 2 + 1] as number);
          if (id !== undefined && first[id] === Number.POSITIVE_INFINITY) first[id] = rows[entry] as number;
        }
      });
      asked.forEach((query, at) => {
        found[query] = first[ids[at] as number] as number;
      });
    }
    return found;
  }

  /** Deletes the partition files (not the ledger: its owner's). */
  remove(): void {
    if (this.implicit) return;
    for (const path of this.parts) rmSync(path, { force: true });
  }

  private partOf(lo: number, hi: number): number {
    return this.bits === 0 ? 0 : mix(lo, hi) >>> (32 - this.bits);
  }
}

/**
 * Builds and reads throwaway ledgers of made-up keys in `dir` (one partition and several), so that
 * the code a table runs once, after its stream, is compiled before the first table: run cold, in
 * V8's interpreter, it took ~20–30 ms of a 50k-row table's ~130 ms on one core.
 */
export function exerciseLedgerIndex(dir: string): void {
  const recorder = new KeyRecorder();
  for (let row = 0; row < 40_000; row++) {
    if (row % 101 === 0) recorder.recordNull();
    // Every 50th key repeats an earlier one: the clash paths run too.
    const key = row % 50 === 49 ? row - 7 : row;
    recorder.record(Math.imul(key, 0x9e3779b1) >>> 0, key ^ 0x85ebca6b);
  }
  const keys = recorder.take();
  for (const partitionRows of [PARTITION_ROWS, 10_000]) {
    const ledger = new OutputLedger(join(dir, `staging-refresh-warm-${process.pid}-${partitionRows}.ledger`));
    let index: LedgerIndex | undefined;
    try {
      ledger.append(keys);
      index = LedgerIndex.build(ledger.close(), partitionRows);
      index.firstRows(keys.subarray(0, 2_000));
      index.clashes();
    } finally {
      index?.remove();
      ledger.remove();
    }
  }
}

/** Writes all of `bytes` (writeSync may write part of it). */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
}

const rowOf = (entries: Uint32Array, at: number) =>
  (entries[at + 2] as number) + (entries[at + 3] as number) * TWO_32;

/** Entries read from a file at a time (16k: a chunk of forEachChunk's). */
const CHUNK_ENTRIES = 16 * 1024;

/** Calls `each` on the file's words, a chunk at a time (whole entries of `entryWords` words). */
function forEachChunk(
  path: string,
  entryWords: number,
  each: (words: Uint32Array, count: number) => void,
): void {
  const chunk = new Uint32Array(entryWords * CHUNK_ENTRIES);
  const bytes = new Uint8Array(chunk.buffer);
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      let read = 0;
      while (read < bytes.length) {
        const got = readSync(fd, bytes, read, bytes.length - read, null);
        if (got === 0) break;
        read += got;
      }
      if (read % (entryWords * 4) !== 0) throw new Error(`${path}: a ledger file ends inside an entry`);
      if (read > 0) each(chunk, read / 4);
      if (read < bytes.length) return;
    }
  } finally {
    closeSync(fd);
  }
}

/** Keys (lo, hi) to a number each: the first one given for a key stays. Open addressing. */
class FirstRows {
  private readonly keys: Uint32Array;
  private readonly rows: Float64Array;
  private readonly mask: number;

  constructor(expected: number) {
    let slots = 16;
    while (slots < expected * 2) slots *= 2;
    this.keys = new Uint32Array(slots * 2);
    this.rows = new Float64Array(slots);
    this.mask = slots - 1;
  }

  /** Whether the key was new (then `row` is kept for it). Keys are never (0, 0). */
  add(lo: number, hi: number, row: number): boolean {
    for (let slot = mix(lo, hi) & this.mask; ; slot = (slot + 1) & this.mask) {
      const slotLo = this.keys[slot * 2] as number;
      const slotHi = this.keys[slot * 2 + 1] as number;
      if (slotLo === 0 && slotHi === 0) {
        this.keys[slot * 2] = lo;
        this.keys[slot * 2 + 1] = hi;
        this.rows[slot] = row;
        return true;
      }
      if (slotLo === lo && slotHi === hi) return false;
    }
  }

  get(lo: number, hi: number): number | undefined {
    for (let slot = mix(lo, hi) & this.mask; ; slot = (slot + 1) & this.mask) {
      const slotLo = this.keys[slot * 2] as number;
      const slotHi = this.keys[slot * 2 + 1] as number;
      if (slotLo === 0 && slotHi === 0) return undefined;
      if (slotLo === lo && slotHi === hi) return this.rows[slot];
    }
  }
}
