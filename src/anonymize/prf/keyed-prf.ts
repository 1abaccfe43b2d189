// Keyed pseudo-random functions of the anonymization secret. `hex` is HMAC-SHA256
// (the `hash` strategy's promise, with the key's pads compressed once: see hmac-sha256.ts);
// `token`, `uint32` and `wide` use SipHash-2-4 keyed by SHA-256(secret) — a PRF too, and
// cheaper still per value (measured here: createHmac 1.7 µs, HmacSha256 0.7-1 µs, SipHash 0.3 µs in
// JavaScript and 0.12 µs in WebAssembly). SipHash runs in WebAssembly, the JavaScript one is its
// reference (same bits, property-tested) and runs where WebAssembly cannot (`STAGING_REFRESH_PRF=js`).
// One HMAC-SHA256 stays in JavaScript: in WebAssembly it measured slower (1.3 against 1.0 µs a
// value; a SHA-256 block is ~1,000 cycles of scalar code either way); four at once in WebAssembly
// SIMD (`macBatch`) measured 0.37 µs a value.
import { createHash } from 'node:crypto';
import { HEX_DIGIT, HmacSha256 } from './hmac-sha256.js';
import { HmacSha256x4 } from './hmac-sha256-wasm.js';
import { SipHash24 } from './siphash.js';
import { WasmSipHash24 } from './siphash-wasm.js';
import { webAssembly } from './wasm-runtime.js';

export class KeyedPrf {
  /** The last secret's PRF in this thread (see `of`). */
  private static last: KeyedPrf | undefined;

  /**
   * This thread's PRF of `key`, shared by every table masked here. Each PRF has its own
   * WebAssembly instances, and V8's optimized code for the kernels calls one instance's functions:
   * a second table's new PRF threw that code away (a "wrong call target" deoptimization of every
   * kernel) and compiled it again — a share of a small table's time. Sharing is safe: every call
   * uses its scratch memory synchronously, and a batch of MACs is its caller's own.
   */
  static of(key: string): KeyedPrf {
    const last = KeyedPrf.last;
    // One that grew for a huge value (its memory never shrinks) is let go, not kept for the run.
    if (last?.key === key && last.wasm === wasmWanted() && last.heldBytes() <= HELD_AT_MOST) return last;
    KeyedPrf.last = new KeyedPrf(key);
    return KeyedPrf.last;
  }

  private readonly sip: SipHash24 | WasmSipHash24;
  /** The 64 bits of the last tokenOfScratchInto, as unsigned words. */
  lastTokenHigh = 0;
  lastTokenLow = 0;
  private readonly mac: HmacSha256;
  private readonly wideWords = new Uint32Array(4);
  private readonly wasm: boolean;

  constructor(private readonly key: string) {
    this.mac = new HmacSha256(key);
    this.wasm = wasmWanted();
    const keys = createHash('sha256').update(`staging-refresh:siphash:${key}`).digest();
    this.sip = !this.wasm ? new SipHash24(keys.subarray(0, 16)) : new WasmSipHash24(keys.subarray(0, 16));
  }

  /** Bytes of message room this PRF holds (grown for the longest value it hashed). */
  heldBytes(): number {
    return this.mac.heldBytes() + (this.sip instanceof WasmSipHash24 ? this.sip.heldBytes() : 0);
  }

  /** HMAC-SHA256 as hex, `length` characters. */
  hex(message: string, length = 64): string {
    return this.mac.hex(message, length);
  }

  /** `hex` of the bytes source[start, end), as ASCII hex digits into `target` at `at`. */
  hexInto(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number, length = 64): void {
    this.mac.hexInto(source, start, end, target, at, length);
  }

  /**
   * A batch of four `hex` MACs at once (WebAssembly SIMD, hmac-sha256-wasm.ts), each caller its
   * own; undefined where WebAssembly is not used (then `hexInto` one at a time).
   */
  macBatch(): HmacSha256x4 | undefined {
    return this.wasm ? new HmacSha256x4(this.key) : undefined;
  }

  /** `uint32` of the bytes source[start, end). */
  uint32Of(source: Uint8Array, start: number, end: number): number {
    return this.sip.hashRange(source, start, end).lo;
  }

  /**
   * Room for `length` bytes of a message written in place (no copy): then `tokenOfScratchInto`.
   * The bytes are valid until the next call on this PRF.
   */
  scratch(length: number): Uint8Array {
    return this.sip.scratch(length);
  }

  /** `token` of bytes [0, length) of the last `scratch`, as 16 ASCII hex digits into `target` at `at`. */
  tokenOfScratchInto(length: number, target: Uint8Array, at: number): void {
    const { hi, lo } = this.sip.hashScratch(length);
    this.lastTokenHigh = hi;
    this.lastTokenLow = lo;
    for (let digit = 0; digit < 8; digit++) {
      target[at + digit] = HEX_DIGIT[(hi >>> (28 - 4 * digit)) & 15] as number;
      target[at + 8 + digit] = HEX_DIGIT[(lo >>> (28 - 4 * digit)) & 15] as number;
    }
  }

  /** `wide` of the bytes source[start, end). */
  wideOf(source: Uint8Array, start: number, end: number): Uint32Array {
    const { hi, lo } = this.sip.hashRange(source, start, end);
    return this.spread(hi, lo);
  }

  /** 64 keyed bits as 16 hex digits (unique in practice: collisions ~n²/2^65). */
  token(message: string): string {
    return this.sip.hashString(message).hex();
  }

  /** An unsigned 32-bit integer. */
  uint32(message: string): number {
    return this.sip.hashString(message).lo;
  }

  /**
   * Four 32-bit words for picking from lists: 64 keyed bits (one SipHash) and the same bits
   * stirred by a fixed mixer (murmur3's fmix32 on each half), so every word is its own index.
   * 64 bits of entropy: enough for fakes, which need not be unique. The array is reused.
   */
  wide(message: string): Uint32Array {
    const { hi, lo } = this.sip.hashString(message);
    return this.spread(hi, lo);
  }

  private spread(hi: number, lo: number): Uint32Array {
    const words = this.wideWords;
    words[0] = hi;
    words[1] = lo;
    words[2] = fmix32((hi ^ 0x9e3779b9) >>> 0);
    words[3] = fmix32((lo ^ 0x85ebca6b) >>> 0);
    return words;
  }
}

/** Message room a shared PRF may hold: more, and the thread's next table gets a new one. */
const HELD_AT_MOST = 16 * 2 ** 20;

/** Whether SipHash runs in WebAssembly: where the runtime has it, unless STAGING_REFRESH_PRF=js. */
const wasmWanted = (): boolean => process.env.STAGING_REFRESH_PRF !== 'js' && webAssembly !== undefined;

/**
 * `value % divisor` for integers 0 ≤ value < 2^32 and 0 < divisor ≤ 2^53, the same number: V8
 * compiles `%` on a 32-bit word above 2^31 (a PRF's word, a typed array's element) to a C library
 * call, ~11–17 ns, where this division, floor and multiply take ~3 ns. Exact: for such operands
 * the quotient's distance to the next integer is at least 1/divisor, more than its rounding error.
 */
export function remainder(value: number, divisor: number): number {
  return value - Math.floor(value / divisor) * divisor;
}

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
export function fmix32(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}
