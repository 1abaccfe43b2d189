// The cache of repeated values (memo-masker.ts) on bytes: a plain field's bytes are looked up in
// an open-addressing table of 64-bit digests, and a hit copies the masked field's bytes out of an
// arena — no string made, no Map of strings (a birth date repeats in ~96 % of a users table's
// rows, where the string cache still cost a string, a Map lookup and an encode a row). The same
// bounds as the string cache: entries, key length, and a trial after which a column whose values
// barely repeat stops paying for the lookup.
import { digestBytes, digestHigh } from './digest.js';
import { MEMO_ENTRIES, MEMO_MAX_LENGTH, MEMO_TRIAL, memoWorthKeeping } from './memo-masker.js';
import type { FieldSink } from './strategies/strategy.js';

/** Slots in the table: twice the entries, so that probes stay short. */
const SLOTS = MEMO_ENTRIES * 2;
/** Per slot: digest low word, digest high word, key offset + 1 (0: free), output offset. */
const WORDS = 4;

export class BytesMemo {
  private readonly slots = new Int32Array(SLOTS * WORDS);
  /** Each entry's key bytes, then its output's length (2 bytes) and bytes. */
  private arena = Buffer.allocUnsafeSlow(1 << 20);
  private used = 0;
  private entries = 0;
  private lookups = 0;
  private hits = 0;
  private on = true;
  /** The digest of the last key looked up (for `store`). */
  private lo = 0;
  private hi = 0;

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
    this.digest(source, start, end);
    const slot = this.find(source, start, end);
    if (this.slots[slot * WORDS + 2] === 0) return false;
    const at = this.slots[slot * WORDS + 3] as number;
    const arena = this.arena;
    const length = ((arena[at] as number) << 8) | (arena[at + 1] as number);
    sink.copy(arena, at + 2, at + 2 + length);
    this.hits++;
    return true;
  }

  /** Caches the field written into `sink` from `at` on as the output for the key of the last miss. */
  store(source: Buffer, start: number, end: number, sink: FieldSink, at: number): void {
    const keyLength = end - start;
    const outLength = sink.length - at;
    if (!this.on || keyLength > MEMO_MAX_LENGTH || outLength > 0xffff) return;
    if (this.entries >= MEMO_ENTRIES || this.used + keyLength + 2 + outLength > this.arena.length) {
      if (this.used + keyLength + 2 + outLength > this.arena.length && this.arena.length < 1 << 26)
        this.arena = Buffer.allocUnsafeSlow(this.arena.length * 2);
      this.clear();
    }
    const slot = this.find(source, start, end);
    const base = slot * WORDS;
    const arena = this.arena;
    const keyAt = this.used;
    source.copy(arena, keyAt, start, end);
    const outAt = keyAt + keyLength;
    arena[outAt] = outLength >>> 8;
    arena[outAt + 1] = outLength & 0xff;
    sink.reserve(0).copy(arena, outAt + 2, at, sink.length);
    this.used = outAt + 2 + outLength;
    this.slots[base] = this.lo;
    this.slots[base + 1] = this.hi;
    this.slots[base + 2] = keyAt + 1;
    this.slots[base + 3] = outAt;
    this.entries++;
  }

  /** The slot holding the key source[start, end) (digest in lo/hi), or the free slot where it goes. */
  private find(source: Uint8Array, start: number, end: number): number {
    const slots = this.slots;
    const arena = this.arena;
    const length = end - start;
    for (let slot = this.lo & (SLOTS - 1); ; slot = (slot + 1) & (SLOTS - 1)) {
      const base = slot * WORDS;
      const key = slots[base + 2] as number;
      if (key === 0) return slot;
      if (slots[base] !== this.lo || slots[base + 1] !== this.hi) continue;
      // Same digest: the same key only if its bytes are (the output starts where the key ends).
      const keyAt = key - 1;
      if ((slots[base + 3] as number) - keyAt !== length) continue;
      let same = true;
      for (let index = 0; index < length; index++) {
        if (arena[keyAt + index] !== source[start + index]) {
          same = false;
          break;
        }
      }
      if (same) return slot;
    }
  }

  private clear(): void {
    this.slots.fill(0);
    this.used = 0;
    this.entries = 0;
  }

  private digest(source: Uint8Array, start: number, end: number): void {
    // As the table's int32 words hold them.
    this.lo = digestBytes(source, start, end) | 0;
    this.hi = digestHigh() | 0;
  }
}
