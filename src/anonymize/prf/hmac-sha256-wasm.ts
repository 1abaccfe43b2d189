// HMAC-SHA256 of four short messages at once in WebAssembly SIMD (wasm/hmac-sha256x4.wat): one
// message per 32-bit lane, so one pass of the SHA-256 rounds gives four MACs. A single MAC in
// WebAssembly measured no faster than the JavaScript HmacSha256 (a SHA-256 block is ~1,000 cycles
// of scalar code either way); four lanes share those cycles. HmacSha256 stays the reference and
// computes every message this cannot (longer than one block) — the same bits either way
// (test/unit/hmac-sha256-wasm.test.ts).
import { HmacSha256 } from './hmac-sha256.js';
import { WASM_BASE64 } from './wasm/hmac-sha256x4.wat.js';
import { instantiate, type WasmMemory } from './wasm-runtime.js';

interface Hmac4Exports {
  memory: WasmMemory;
  hmac4(): void;
}

/** The longest message one lane takes: a single block of the inner hash (55 + 0x80 + 8 bytes of length). */
export const LANE_BYTES = 55;

/** Word offsets in the module's memory (see the .wat's layout). */
const PADS = 64;
const BLOCK = 256;
const RESULT = 512;

export class HmacSha256x4 {
  private readonly exports: Hmac4Exports;
  private readonly words: Uint32Array;

  constructor(key: string | Uint8Array) {
    const mac = new HmacSha256(key);
    this.exports = instantiate<Hmac4Exports>(WASM_BASE64);
    this.words = new Uint32Array(this.exports.memory.buffer);
    this.words.set(mac.inner, PADS);
    this.words.set(mac.outer, PADS + 8);
  }

  /** Puts source[start, end) (at most LANE_BYTES bytes) into `lane` (0–3), padded as the inner hash's one block. */
  lane(lane: number, source: Uint8Array, start: number, end: number): void {
    const length = end - start;
    const words = this.words;
    for (let word = 0; word < 14; word++) {
      let value = 0;
      for (let byte = 4 * word; byte < 4 * word + 4; byte++) {
        value =
          (value << 8) | (byte < length ? (source[start + byte] as number) : byte === length ? 0x80 : 0);
      }
      words[BLOCK + 4 * word + lane] = value;
    }
    // The length in bits of the key's pad block and the message, big-endian over words 14–15.
    words[BLOCK + 56 + lane] = 0;
    words[BLOCK + 60 + lane] = (64 + length) * 8;
  }

  /** Computes the four lanes' MACs (a lane not set since the last run holds what it held). */
  run(): void {
    this.exports.hmac4();
  }

  /** Word `index` (0–7, big-endian order of the digest) of `lane`'s MAC after `run`. */
  word(lane: number, index: number): number {
    return this.words[RESULT + 4 * index + lane] as number;
  }
}
