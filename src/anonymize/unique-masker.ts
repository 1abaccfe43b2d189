// Masked values stay unique where the column is: a deterministic masker on a column with a unique
// key may still map two originals onto one output (the e-mail masker lowercases, so `Ann@x` and
// `ann@x` meet; a short hash can collide). The second original is re-keyed — masked again with a
// counter appended — until its output is free. Which of the two keeps the plain mapping (and so
// joins with other tables) is the first one the stream meets.
import { digest, digestBytes, digestHigh } from './digest.js';
import type { BytesMasker, Masker } from './strategies/strategy.js';

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
  return uniqueMaskers(mask, undefined, table, column).mask;
}

/**
 * The same for both paths of a rule, sharing one table of outputs: the bytes path (when the rule
 * has one) claims its output by the same digests — a plain field's bytes are its code units — and
 * leaves a collision, or an output that is not plain ASCII, to the string path, which re-keys.
 */
export function uniqueMaskers(
  mask: Masker,
  bytes: BytesMasker | undefined,
  table: string,
  column: string,
): { mask: Masker; bytes: BytesMasker | undefined } {
  const owners = new OwnerTable();
  const unique: Masker = (value, row) => {
    let out = mask(value, row);
    if (value === null || out === null) return out;
    const owner = digest(value);
    const ownerHi = digestHigh();
    for (let attempt = 1; ; attempt++) {
      const found = owners.claim(digest(out), digestHigh(), owner, ownerHi);
      if (found !== OTHER) return out;
      if (attempt > ATTEMPTS) throw new MaskCollisionError(table, column);
      out = mask(`${value}\u0000${attempt}`, row);
      if (out === null) return out;
    }
  };
  const noRow = () => null;
  const uniqueBytes: BytesMasker | undefined =
    bytes &&
    ((source, start, end, sink) => {
      const at = sink.length;
      bytes(source, start, end, sink);
      const written = sink.reserve(0);
      if (bytes.ascii === true || plainBytes(written, at, sink.length)) {
        const owner = digestBytes(source, start, end);
        const ownerHi = digestHigh();
        if (owners.claim(digestBytes(written, at, sink.length), digestHigh(), owner, ownerHi) !== OTHER)
          return;
      }
      // Another original's output (or one that is not plain ASCII): the string path, which re-keys.
      sink.length = at;
      sink.field(unique(source.latin1Slice(start, end), noRow));
    });
  return { mask: unique, bytes: uniqueBytes };
}

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
      // Word by word: a subarray view per entry was most of a growth's cost.
      const to = slot * 4;
      this.slots[to] = hi;
      this.slots[to + 1] = lo;
      this.slots[to + 2] = old[at + 2] as number;
      this.slots[to + 3] = old[at + 3] as number;
    }
  }
}

/** Whether bytes [start, end) are ASCII without a backslash: a COPY field that is its own text. */
function plainBytes(bytes: Uint8Array, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    const code = bytes[index] as number;
    if (code > 0x7f || code === 92) return false;
  }
  return true;
}
