// The cache of repeated values (memo-masker.ts) on bytes: a plain field's bytes are looked up in
// an open-addressing table of digests (8 bytes a slot, sized to the entries, so that a column with
// tens of thousands of values still fits a core's cache: a 2 MiB table cost a cache miss a row),
// the key's bytes compared in the arena, and a hit copies the masked field's bytes out of that
// arena — no string made, no Map of strings (a birth date repeats in ~96 % of a users table's
// rows, where the string cache still cost a string, a Map lookup and an encode a row). The same
// bounds as the string cache: entries, key length, and a trial after which a column whose values
// barely repeat stops paying for the lookup.
import { hashBytes32 } from './digest.js';
import { MEMO_ENTRIES, MEMO_MAX_LENGTH, MEMO_TRIAL, memoWorthKeeping } from './memo-masker.js';
import type { FieldSink } from './strategies/strategy.js';

/** Slots at most: twice the entries, so that probes stay short. */
const MAX_SLOTS = MEMO_ENTRIES * 2;
/** Slots at first: the table grows with the entries, so a column with few values stays in cache. */
const FIRST_SLOTS = 1024;
/** Per slot: the key's digest (low word), its entry's offset in the arena + 1 (0: free). */
const WORDS = 2;
/** An entry in the arena: key length (1 byte), output length (2 bytes), the key, the output. */
const HEAD = 3;

export class BytesMemo {
  private slots = new Int32Array(FIRST_SLOTS * WORDS);
  /** Each entry: its head, its key's bytes, its output's bytes. */
  private arena: Buffer;
  private used = 0;
  private entries = 0;
  private lookups = 0;
  private hits = 0;
  private on = true;
  /** The digest of the last key looked up (for `store`). */
  private lo = 0;

  /** `arenaBytes`: the arena's first size (it doubles as entries need, up to 64 MiB). */
  constructor(arenaBytes = 1 << 20) {
    this.arena = Buffer.allocUnsafeSlow(arenaBytes);
  }

  /** False once the hit rate switched the cache off. */
  caching(): boolean {
    return this.on;
  }

  /**
   * Writes the cached field for the key source[start, end) into `sink` and returns true, or
   * returns false (a miss, a key too long to cache, or the trial just ended with too few hits).
   */
  hit(source: Uint8Array, start: number, end: number, sink: FieldSink): boolean {
    if (!this.on || end - start > MEMO_MAX_LENGTH) return false;
    if (++this.lookups === MEMO_TRIAL && !memoWorthKeeping(this.hits)) {
      this.on = false;
      return false;
    }
    this.lo = hashBytes32(source, start, end) | 0;
    const entry = this.slots[this.find(source, start, end) * WORDS + 1] as number;
    if (entry === 0) return false;
    const arena = this.arena;
    const at = entry - 1;
    const out = at + HEAD + (arena[at] as number);
    sink.copy(arena, out, out + (((arena[at + 1] as number) << 8) | (arena[at + 2] as number)));
    this.hits++;
    return true;
  }

  /** Caches the field written into `sink` from `at` on as the output for the key of the last miss. */
  store(source: Buffer, start: number, end: number, sink: FieldSink, at: number): void {
    const keyLength = end - start;
    const outLength = sink.length - at;
    if (!this.on || keyLength > MEMO_MAX_LENGTH || outLength > 0xffff) return;
    const size = HEAD + keyLength + outLength;
    if (this.entries >= MEMO_ENTRIES || this.used + size > this.arena.length) {
      if (this.used + size > this.arena.length && this.arena.length < 1 << 26) {
        // Doubled, and again while one entry would not fit (an arena that starts small).
        let bytes = this.arena.length * 2;
        while (bytes < size) bytes *= 2;
        this.arena = Buffer.allocUnsafeSlow(bytes);
      }
      this.clear();
      if (size > this.arena.length) return;
    } else if ((this.entries + 1) * 2 > this.slots.length / WORDS && this.slots.length / WORDS < MAX_SLOTS) {
      this.grow();
    }
    const slot = this.find(source, start, end);
    const arena = this.arena;
    const entry = this.used;
    arena[entry] = keyLength;
    arena[entry + 1] = outLength >>> 8;
    arena[entry + 2] = outLength & 0xff;
    // Byte by byte: keys and outputs are short, and Buffer#copy's call costs more than ~60 bytes
    // of stores (two of them a miss were ~4 % of a users table's masking).
    const key = entry + HEAD;
    for (let index = 0; index < keyLength; index++) arena[key + index] = source[start + index] as number;
    const written = sink.reserve(0);
    const out = key + keyLength;
    for (let index = 0; index < outLength; index++) arena[out + index] = written[at + index] as number;
    this.used = entry + size;
    this.slots[slot * WORDS] = this.lo;
    this.slots[slot * WORDS + 1] = entry + 1;
    this.entries++;
  }

  /** The slot holding the key source[start, end) (its digest in lo), or the free slot where it goes. */
  private find(source: Uint8Array, start: number, end: number): number {
    const slots = this.slots;
    const arena = this.arena;
    const length = end - start;
    const mask = slots.length / WORDS - 1;
    for (let slot = this.lo & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot * WORDS + 1] as number;
      if (entry === 0) return slot;
      if (slots[slot * WORDS] !== this.lo || arena[entry - 1] !== length) continue;
      // Same digest and length: the same key only if its bytes are.
      const key = entry - 1 + HEAD;
      let same = true;
      for (let index = 0; index < length; index++) {
        if (arena[key + index] !== source[start + index]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
  }

  /** Twice the slots, every entry placed again by its digest. */
  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    const mask = this.slots.length / WORDS - 1;
    for (let at = 0; at < old.length; at += WORDS) {
      const entry = old[at + 1] as number;
      if (entry === 0) continue;
      const lo = old[at] as number;
      let slot = lo & mask;
      while (this.slots[slot * WORDS + 1] !== 0) slot = (slot + 1) & mask;
      this.slots[slot * WORDS] = lo;
      this.slots[slot * WORDS + 1] = entry;
    }
  }

  private clear(): void {
    this.slots.fill(0);
    this.used = 0;
    this.entries = 0;
  }
}
