// Masked values stay unique where the column is: a deterministic masker on a column with a unique
// key may still map two originals onto one output (the e-mail masker lowercases, so `Ann@x` and
// `ann@x` meet; a short hash can collide). The second original is re-keyed — masked again with a
// counter appended — until its output is free. Which of the two keeps the plain mapping (and so
// joins with other tables) is the first one the stream meets.
//
// Two ways to get there, with the same outputs. `uniqueMaskers` keeps a table of the outputs in
// memory and re-keys in the stream (a plain dump's path; the reference). `ledgerMaskers` writes
// every row's plain output and records its key (output-ledger.ts); the rows to re-key are found
// and changed after the stream (unique-repair.ts), so memory does not grow with the table.
//
// In the table only outputs are kept, 8 bytes a slot (16 a row at the table's load): each slot once also held
// its original's digest, so that the same original met again got the same output. A column this
// runs on has a full unique key of its own (unique-keys.ts leaves partial and expression indexes
// out), which cannot hold a value twice; were one there, it would be re-keyed like any other, and
// the column still unique. Half the memory of a unique masked column, one digest less a row:
// users.email 0.92 → 0.84 s for 500k rows on one core.
import { digest, digestBytes, digestHigh } from './digest.js';
import type { KeyRecorder } from './output-ledger.js';
import type { BytesMasker, FieldSink, Masker } from './strategies/strategy.js';

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

/** Re-keyed outputs a colliding original may try before the column counts as not kept unique. */
export const UNIQUE_ATTEMPTS = 16;

/** Wraps `mask` so that distinct originals never share an output (within this stream). */
export function uniqueMasker(mask: Masker, table: string, column: string): Masker {
  return uniqueMaskers(mask, undefined, table, column).mask;
}

/**
 * The same for both paths of a rule, sharing one set of outputs: the bytes path (when the rule
 * has one) claims its output by the same digests — a plain field's bytes are its code units — and
 * leaves a collision, or an output that is not plain ASCII, to the string path, which re-keys.
 *
 * With `deferred`, the bytes path writes its output at once and owes the claim until `flush`, at
 * the end of the block, where the claims run back to back after one pass that reads each one's
 * slot without a branch on it. A claim a row, between the rest of each row's masking, waited for
 * its own cache miss (the set outgrows the core's caches: 16 MiB at 500k rows): users.email's
 * claims cost ~0.1 s in 500k rows on one core; back to back, with the set's growth, 48 ms. The
 * claims keep the stream's order (the string path settles what is owed before it claims), so
 * the rows re-keyed are the same; a re-keyed output replaces the one written, moving what follows
 * when its length differs. So only where no other masker holds positions in the sink after its
 * own flush: a table's one unique column, flushed last.
 */
export function uniqueMaskers(
  mask: Masker,
  bytes: BytesMasker | undefined,
  table: string,
  column: string,
  deferred = false,
): { mask: Masker; bytes: BytesMasker | undefined } {
  const outputs = new OutputSet();
  // Outputs are claimed by the rule's own exact key where it has one (an address's token), else
  // by their digest: the same on both paths, so that they claim in one set.
  const key = bytes?.key;
  const claimed: Masker = (value, row) => {
    let out = mask(value, row);
    if (value === null || out === null) return out;
    for (let attempt = 1; ; attempt++) {
      const taken = key ? outputs.claim(key.of(out), key.high()) : outputs.claim(digest(out), digestHigh());
      if (taken) return out;
      if (attempt > UNIQUE_ATTEMPTS) throw new MaskCollisionError(table, column);
      out = mask(`${value}\u0000${attempt}`, row);
      if (out === null) return out;
    }
  };
  const noRow = () => null;
  const owed = deferred ? new OwedClaims() : undefined;
  /** Claims what is owed, in order; an output already taken is re-keyed from its original. */
  const settle = (owing: OwedClaims) => {
    const source = owing.source;
    const claims = owing.claims;
    outputs.reserve(owing.count);
    outputs.touch(claims, owing.count);
    for (let index = 0; index < owing.count; index++) {
      const at = index * CLAIM_WORDS;
      if (outputs.claim(claims[at] as number, claims[at + 1] as number)) continue;
      const original = (source as Buffer).latin1Slice(claims[at + 4] as number, claims[at + 5] as number);
      owing.replace(claims[at + 2] as number, claims[at + 3] as number, claimed(original, noRow));
    }
    owing.count = 0;
  };
  const unique: Masker = owed
    ? (value, row) => {
        if (owed.count > 0) settle(owed);
        return claimed(value, row);
      }
    : claimed;
  if (bytes === undefined) return { mask: unique, bytes: undefined };
  const uniqueBytes: BytesMasker = (source, start, end, sink) => {
    const at = sink.length;
    bytes(source, start, end, sink);
    const written = sink.reserve(0);
    if (bytes.ascii === true || plainBytes(written, at, sink.length)) {
      const lo = key ? key.last() : digestBytes(written, at, sink.length);
      const hi = key ? key.high() : digestHigh();
      if (owed) {
        if (owed.source !== source && owed.count > 0) settle(owed);
        owed.owe(source, lo, hi, at, sink.length, start, end);
        return;
      }
      if (outputs.claim(lo, hi)) return;
    }
    // An output already taken (or one that is not plain ASCII): the string path, which re-keys.
    sink.length = at;
    sink.field(unique(source.latin1Slice(start, end), noRow));
  };
  if (owed) {
    uniqueBytes.flush = (sink) => {
      if (owed.count > 0) settle(owed);
      owed.apply(sink);
    };
    // A block that failed midway: what it owed is dropped, not settled into the next block's sink.
    uniqueBytes.abandon = () => owed.clear();
  }
  return { mask: unique, bytes: uniqueBytes };
}

/**
 * The same rule masked plainly, each row's output key recorded in `ledger` in row order
 * (output-ledger.ts): no table of outputs in memory, nothing re-keyed here — unique-repair.ts
 * re-keys, after the stream, exactly the rows `uniqueMaskers` would have. The keys are the ones
 * it claims by: the rule's exact key where it has one, else the output's digest; a NULL is
 * recorded as one. Without a ledger, the rule's plain outputs (what a repair matches rows by).
 */
export function ledgerMaskers(
  mask: Masker,
  bytes: BytesMasker | undefined,
  ledger: KeyRecorder | undefined,
): { mask: Masker; bytes: BytesMasker | undefined } {
  if (ledger === undefined) return { mask, bytes };
  const key = bytes?.key;
  const recorded: Masker = (value, row) => {
    const out = mask(value, row);
    if (value === null || out === null) ledger.recordNull();
    else if (key) ledger.record(key.of(out), key.high());
    else ledger.record(digest(out), digestHigh());
    return out;
  };
  if (bytes === undefined) return { mask: recorded, bytes: undefined };
  const noRow = () => null;
  const recordedBytes: BytesMasker = (source, start, end, sink) => {
    const at = sink.length;
    bytes(source, start, end, sink);
    const written = sink.reserve(0);
    if (bytes.ascii === true || plainBytes(written, at, sink.length)) {
      if (key) ledger.record(key.last(), key.high());
      else ledger.record(digestBytes(written, at, sink.length), digestHigh());
      return;
    }
    // An output that is not plain ASCII: through the string, as uniqueMaskers does.
    sink.length = at;
    sink.field(recorded(source.latin1Slice(start, end), noRow));
  };
  return { mask: recorded, bytes: recordedBytes };
}

/** The key a rule's output is claimed and recorded by: (lo, hi). */
export function outputKey(bytes: BytesMasker | undefined, out: string): [number, number] {
  const key = bytes?.key;
  if (key) {
    const lo = key.of(out);
    return [lo, key.high()];
  }
  const lo = digest(out);
  return [lo, digestHigh()];
}

/**
 * Owes a block's worth of claims and drops them: a real unique column owes thousands a block and
 * grows its table, which made-up rows (a NULL or a sampled row settles what is owed) rarely reach.
 * For the warm-up (warm-masking.ts): the code a real table runs, run once before it.
 */
export function exerciseOwedClaims(source: Buffer): void {
  const owed = new OwedClaims();
  for (let index = 0; index < 2 * INITIAL_CLAIMS; index++) {
    const lo = Math.imul(index, 0x9e3779b1) >>> 0;
    owed.owe(source, lo, lo ^ 0x85ebca6b, index, index + 1, 0, Math.min(source.length, 16));
  }
  owed.clear();
}

/** Per owed claim: the output's digest (lo, hi), its bytes in the sink, its original's in the source. */
const CLAIM_WORDS = 6;
/** Claims a table has room for at first (it doubles). */
const INITIAL_CLAIMS = 1024;

/** The claims a deferred unique column owes in one block, and the outputs re-keyed when settled. */
class OwedClaims {
  claims = new Uint32Array(CLAIM_WORDS * INITIAL_CLAIMS);
  count = 0;
  /** The block the originals are in. */
  source: Buffer | undefined;
  /** Re-keyed outputs: where the written one lies in the sink, and what replaces it. */
  private readonly replacements: { start: number; end: number; value: string | null }[] = [];

  owe(source: Buffer, lo: number, hi: number, start: number, end: number, from: number, to: number): void {
    if ((this.count + 1) * CLAIM_WORDS > this.claims.length) {
      const grown = new Uint32Array(this.claims.length * 2);
      grown.set(this.claims);
      this.claims = grown;
    }
    const at = this.count * CLAIM_WORDS;
    const claims = this.claims;
    claims[at] = lo;
    claims[at + 1] = hi;
    claims[at + 2] = start;
    claims[at + 3] = end;
    claims[at + 4] = from;
    claims[at + 5] = to;
    this.count++;
    this.source = source;
  }

  replace(start: number, end: number, value: string | null): void {
    this.replacements.push({ start, end, value });
  }

  /** Drops the claims owed and the outputs re-keyed (their block failed). */
  clear(): void {
    this.count = 0;
    this.source = undefined;
    this.replacements.length = 0;
  }

  /** Writes the re-keyed outputs over the ones written (in order of position), moving what follows. */
  apply(sink: FieldSink): void {
    this.source = undefined;
    if (this.replacements.length === 0) return;
    const replacements = this.replacements.sort((a, b) => a.start - b.start);
    const first = replacements[0] as (typeof replacements)[number];
    const written = Buffer.from(sink.reserve(0).subarray(first.start, sink.length));
    const base = first.start;
    const end = sink.length;
    sink.length = base;
    replacements.forEach((replacement, index) => {
      sink.field(replacement.value);
      const next = replacements[index + 1]?.start ?? end;
      sink.copy(written, replacement.end - base, next - base);
    });
    this.replacements.length = 0;
  }
}

/** The outputs taken so far, by their 64-bit digests: open addressing, at most half full. */
class OutputSet {
  /** Per slot: an output's digest (hi, lo); all zero marks a free slot. */
  private slots = new Uint32Array(2 * 2048);
  private used = 0;

  /** Room for `count` more outputs without growing (so that a run of claims does not grow midway). */
  reserve(count: number): void {
    while ((this.used + count) * 2 >= this.slots.length / 2) this.grow();
  }

  /**
   * Reads the first slot of each of `count` claims (digests every CLAIM_WORDS words of `claims`),
   * with no branch on what it reads: the cache misses of all overlap, and the claims that follow
   * find their slots in the cache. Probing claim by claim, each miss waited for the one before (a
   * branch on the slot read stops the core running ahead).
   */
  touch(claims: Uint32Array, count: number): void {
    const slots = this.slots;
    const mask = slots.length / 2 - 1;
    let sum = 0;
    for (let index = 0; index < count; index++) {
      const lo = claims[index * CLAIM_WORDS] as number;
      sum ^= slots[(lo & mask) * 2] as number;
    }
    this.touched ^= sum;
  }

  /** What touch() read, kept so that its reads are not optimized away. */
  touched = 0;

  /** Whether output (hi, lo) was free: then it is taken now. */
  claim(lo: number, hi: number): boolean {
    if (this.used * 2 >= this.slots.length / 2) this.grow();
    const outLo = lo === 0 && hi === 0 ? 1 : lo;
    const mask = this.slots.length / 2 - 1;
    for (let slot = outLo & mask; ; slot = (slot + 1) & mask) {
      const at = slot * 2;
      const slotHi = this.slots[at] as number;
      const slotLo = this.slots[at + 1] as number;
      if (slotHi === 0 && slotLo === 0) {
        this.slots[at] = hi;
        this.slots[at + 1] = outLo;
        this.used++;
        return true;
      }
      if (slotHi === hi && slotLo === outLo) return false;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    const mask = this.slots.length / 2 - 1;
    for (let at = 0; at < old.length; at += 2) {
      const hi = old[at] as number;
      const lo = old[at + 1] as number;
      if (hi === 0 && lo === 0) continue;
      let slot = lo & mask;
      while (this.slots[slot * 2] !== 0 || this.slots[slot * 2 + 1] !== 0) slot = (slot + 1) & mask;
      this.slots[slot * 2] = hi;
      this.slots[slot * 2 + 1] = lo;
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
