// Masked values stay unique where the column is: a deterministic masker on a column with a unique
// key may still map two originals onto one output (the e-mail masker lowercases, so `Ann@x` and
// `ann@x` meet; a short hash can collide). The second original is re-keyed — masked again with a
// counter appended — until its output is free. Which of the two keeps the plain mapping (and so
// joins with other tables) is the first one the stream meets.
import { fmix32 } from './prf/keyed-prf.js';
import type { Masker } from './strategies/strategy.js';

/** A collision re-keying could not resolve: the column cannot be kept unique by its rule. */
export class MaskCollisionError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
  ) {
    super(
      `masking ${table}.${column} gave different values the same output and re-keying did not separate them: its unique index would fail`,
    );
    this.name = 'MaskCollisionError';
  }
}

const ATTEMPTS = 16;

/** Wraps `mask` so that distinct originals never share an output (within this stream). */
export function uniqueMasker(mask: Masker, table: string, column: string): Masker {
  const owners = new OwnerTable();
  return (value, row) => {
    let out = mask(value, row);
    if (value === null || out === null) return out;
    const owner = digest(value);
    const ownerHi = digestHi;
    for (let attempt = 1; ; attempt++) {
      const found = owners.claim(digest(out), digestHi, owner, ownerHi);
      if (found !== OTHER) return out;
      if (attempt > ATTEMPTS) throw new MaskCollisionError(table, column);
      out = mask(`${value}\u0000${attempt}`, row);
      if (out === null) return out;
    }
  };
}

// Outputs and their owners as 64-bit digests in one typed array (16 bytes a slot, at most half
// full), not a Map of strings: a map of a users table's e-mail addresses cost more than the rest
// of its masking together (allocation and GC), and ~10× the memory. Two values are taken for the
// same when both 64-bit digests agree: for originals that is odds of ~2^-64 a pair.

const FREE = 0;
const SAME = 1;
const OTHER = 2;

class OwnerTable {
  /** Per slot: output digest (hi, lo), owner digest (hi, lo); an all-zero output marks a free slot. */
  private slots = new Uint32Array(4 * 1024);
  private used = 0;

  /**
   * Whether output (hi, lo) is free (now owned by the owner given), already the owner's, or
   * another original's.
   */
  claim(lo: number, hi: number, ownerLo: number, ownerHi: number): number {
    if (this.used * 2 >= this.slots.length / 4) this.grow();
    const outLo = lo === 0 && hi === 0 ? 1 : lo;
    const mask = this.slots.length / 4 - 1;
    for (let slot = outLo & mask; ; slot = (slot + 1) & mask) {
      const at = slot * 4;
      const slotHi = this.slots[at] as number;
      const slotLo = this.slots[at + 1] as number;
      if (slotHi === 0 && slotLo === 0) {
        this.slots[at] = hi;
        this.slots[at + 1] = outLo;
        this.slots[at + 2] = ownerHi;
        this.slots[at + 3] = ownerLo;
        this.used++;
        return FREE;
      }
      if (slotHi === hi && slotLo === outLo)
        return this.slots[at + 2] === ownerHi && this.slots[at + 3] === ownerLo ? SAME : OTHER;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    const mask = this.slots.length / 4 - 1;
    for (let at = 0; at < old.length; at += 4) {
      const hi = old[at] as number;
      const lo = old[at + 1] as number;
      if (hi === 0 && lo === 0) continue;
      let slot = lo & mask;
      while (this.slots[slot * 4] !== 0 || this.slots[slot * 4 + 1] !== 0) slot = (slot + 1) & mask;
      this.slots.set(old.subarray(at, at + 4), slot * 4);
    }
  }
}

/** The high half of the last digest (the low half is returned). */
let digestHi = 0;

/**
 * A 64-bit digest of a string's UTF-16 code units: two murmur3-style 32-bit lanes with different
 * seeds, finalised with fmix32. Not keyed (the values never leave the process), just well mixed.
 */
function digest(text: string): number {
  let a = 0x9747b28c ^ text.length;
  let b = 0x3c6ef372 ^ Math.imul(text.length, 0x85ebca6b);
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    a = Math.imul(a ^ code, 0xcc9e2d51);
    a = (a << 15) | (a >>> 17);
    b = Math.imul(b ^ code, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    b = (Math.imul(b, 5) + 0xe6546b64) | 0;
  }
  digestHi = fmix32(b ^ a);
  return fmix32(a ^ Math.imul(b, 0x85ebca6b));
}
