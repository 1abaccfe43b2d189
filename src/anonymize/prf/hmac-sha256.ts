// HMAC-SHA256 (RFC 2104 over FIPS 180-4) for short values, keyed once. The `hash` strategy
// promises HMAC-SHA256; Node's createHmac costs ~1.7 µs a call (2.5–2.9 µs inside the masking
// loop, with its garbage) whatever the length, and @noble/hashes with a cloned keyed instance
// measured 4.4 µs. Here the key's inner and outer pads are compressed once, so a value of up
// to 55 bytes is two compressions: ~0.7 µs, no allocation. test/unit/hmac-sha256.test.ts
// checks it against node:crypto on arbitrary input.
import { createHash } from 'node:crypto';
import { utf8Into } from './utf8-into.js';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
/** The ASCII codes of the 16 lower-case hex digits. */
export const HEX_DIGIT = new Uint8Array(Buffer.from('0123456789abcdef', 'latin1'));
const encoder = new TextEncoder();

/** The message schedule, shared: JavaScript runs one compression at a time per thread. */
const W = new Int32Array(64);

/** One SHA-256 compression of the 64 bytes of `block` at `offset` into `state`. */
function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + 4 * i;
    W[i] =
      ((block[j] as number) << 24) |
      ((block[j + 1] as number) << 16) |
      ((block[j + 2] as number) << 8) |
      (block[j + 3] as number);
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15] as number;
    const y = W[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = ((W[i - 16] as number) + s0 + (W[i - 7] as number) + s1) | 0;
  }
  let a = state[0] as number;
  let b = state[1] as number;
  let c = state[2] as number;
  let d = state[3] as number;
  let e = state[4] as number;
  let f = state[5] as number;
  let g = state[6] as number;
  let h = state[7] as number;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (W[i] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = ((state[0] as number) + a) | 0;
  state[1] = ((state[1] as number) + b) | 0;
  state[2] = ((state[2] as number) + c) | 0;
  state[3] = ((state[3] as number) + d) | 0;
  state[4] = ((state[4] as number) + e) | 0;
  state[5] = ((state[5] as number) + f) | 0;
  state[6] = ((state[6] as number) + g) | 0;
  state[7] = ((state[7] as number) + h) | 0;
}

/** Big-endian length in bits of `bytes` into the last 8 bytes of the 64-byte block at `end - 64`. */
function writeBitLength(block: Uint8Array, end: number, bytes: number): void {
  const bits = bytes * 8;
  const high = Math.floor(bits / 2 ** 32);
  block[end - 8] = high >>> 24;
  block[end - 7] = (high >>> 16) & 0xff;
  block[end - 6] = (high >>> 8) & 0xff;
  block[end - 5] = high & 0xff;
  block[end - 4] = bits >>> 24;
  block[end - 3] = (bits >>> 16) & 0xff;
  block[end - 2] = (bits >>> 8) & 0xff;
  block[end - 1] = bits & 0xff;
}

export class HmacSha256 {
  /** The key's inner and outer pads, compressed (the starting states of the two hashes). */
  readonly inner = new Int32Array(8);
  readonly outer = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly outerBlock = new Uint8Array(64);
  private message = new Uint8Array(256);

  constructor(key: string | Uint8Array) {
    let bytes = typeof key === 'string' ? encoder.encode(key) : key;
    if (bytes.length > 64) bytes = createHash('sha256').update(bytes).digest();
    const pad = new Uint8Array(64);
    for (const [state, xor] of [
      [this.inner, 0x36],
      [this.outer, 0x5c],
    ] as const) {
      for (let i = 0; i < 64; i++) pad[i] = (bytes[i] ?? 0) ^ xor;
      state.set(IV);
      compress(state, pad, 0);
    }
    // The outer message is always the 32-byte inner digest: its padding never changes.
    this.outerBlock[32] = 0x80;
    writeBitLength(this.outerBlock, 64, 64 + 32);
  }

  /** Bytes of message room held (grown for the longest message). */
  heldBytes(): number {
    return this.message.length;
  }

  /** HMAC-SHA256 of the UTF-8 bytes of `text`, as `hexDigits` (≤ 64) lower-case hex digits. */
  hex(text: string, hexDigits = 64): string {
    this.digest(text);
    let out = '';
    for (let word = 0; word < 8 && out.length < hexDigits; word++) {
      const value = this.state[word] as number;
      out += HEX[value >>> 24] + (HEX[(value >>> 16) & 0xff] as string);
      out += HEX[(value >>> 8) & 0xff] + (HEX[value & 0xff] as string);
    }
    return out.length > hexDigits ? out.slice(0, hexDigits) : out;
  }

  /**
   * The same MAC of the bytes source[start, end), written as `hexDigits` (≤ 64) lower-case hex
   * digits (ASCII) into `target` at `at` — no string on the way in or out.
   */
  hexInto(
    source: Uint8Array,
    start: number,
    end: number,
    target: Uint8Array,
    at: number,
    hexDigits = 64,
  ): void {
    const length = end - start;
    const message = this.room(length);
    for (let index = 0; index < length; index++) message[index] = source[start + index] as number;
    this.digestMessage(length);
    const digits = Math.min(hexDigits, 64);
    const state = this.state;
    for (let digit = 0; digit < digits; digit++) {
      const word = state[digit >>> 3] as number;
      target[at + digit] = HEX_DIGIT[(word >>> (28 - 4 * (digit & 7))) & 15] as number;
    }
  }

  /** The message buffer, with room for `bytes` and the padding. */
  private room(bytes: number): Uint8Array {
    if (this.message.length < bytes + 72) this.message = new Uint8Array((bytes + 72) * 2);
    return this.message;
  }

  /** Leaves the MAC of the UTF-8 bytes of `text` in `state`. */
  private digest(text: string): void {
    // At most 3 bytes a UTF-16 code unit.
    this.digestMessage(utf8Into(text, this.room(text.length * 3)));
  }

  /** Leaves the MAC of message[0, length) in `state` (message: the buffer `room` gave). */
  private digestMessage(length: number): void {
    // The message, then 0x80, zeros and the bit length.
    const message = this.message;
    const end = (length + 9 + 63) & ~63;
    message[length] = 0x80;
    message.fill(0, length + 1, end - 8);
    writeBitLength(message, end, 64 + length);

    const state = this.state;
    state.set(this.inner);
    for (let offset = 0; offset < end; offset += 64) compress(state, message, offset);
    const outerBlock = this.outerBlock;
    for (let word = 0; word < 8; word++) {
      const value = state[word] as number;
      outerBlock[4 * word] = value >>> 24;
      outerBlock[4 * word + 1] = (value >>> 16) & 0xff;
      outerBlock[4 * word + 2] = (value >>> 8) & 0xff;
      outerBlock[4 * word + 3] = value & 0xff;
    }
    state.set(this.outer);
    compress(state, outerBlock, 0);
  }
}
