// SipHash-2-4 in WebAssembly (wasm/siphash.wat): native 64-bit words instead of 32-bit halves,
// ~3× faster per short value than the JavaScript SipHash24 (siphash.ts), which stays the
// reference: both give the same bits for every key and message (test/unit/siphash-wasm.test.ts).
// The string's UTF-8 bytes are written straight into the module's memory.
import { hex64 } from './siphash.js';
import { utf8Into } from './utf8-into.js';
import { WASM_BASE64 } from './wasm/siphash.wat.js';
import { instantiate, reserveMemory, type WasmMemory } from './wasm-runtime.js';

interface SipHashExports {
  memory: WasmMemory;
  key(k0l: number, k0h: number, k1l: number, k1h: number): void;
  hash(length: number): number;
}

/** Where the message starts in the module's memory (the result is in the bytes before it). */
const MESSAGE = 16;

/** The same interface as SipHash24, for KeyedPrf. */
export class WasmSipHash24 {
  hi = 0;
  lo = 0;
  private readonly exports: SipHashExports;
  private message: Uint8Array;
  /** A DataView over the module's memory (the message is at MESSAGE). */
  private memoryView: DataView;
  private result: Uint32Array;
  /** The last source hashRange read, and a DataView over it (a block's rows come from one Buffer). */
  private source: Uint8Array | undefined;
  private sourceView: DataView | undefined;

  constructor(key: Uint8Array) {
    if (key.length < 16) throw new Error('SipHash needs a 16-byte key');
    this.exports = instantiate<SipHashExports>(WASM_BASE64);
    const words = new DataView(key.buffer, key.byteOffset, 16);
    this.exports.key(
      words.getInt32(0, true),
      words.getInt32(4, true),
      words.getInt32(8, true),
      words.getInt32(12, true),
    );
    this.message = new Uint8Array(this.exports.memory.buffer, MESSAGE);
    this.memoryView = new DataView(this.exports.memory.buffer);
    this.result = new Uint32Array(this.exports.memory.buffer, 0, 2);
  }

  /** Bytes of the module's memory (it grows for the longest message and never shrinks). */
  heldBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** Hashes a string's UTF-8 bytes. */
  hashString(text: string): this {
    if (text.length * 3 > this.message.length) this.reserve(text.length * 3);
    return this.hashMessage(utf8Into(text, this.message));
  }

  /**
   * Hashes the bytes source[start, end), copied into the module's memory four at a time through
   * DataViews (byte by byte was the most of a fake's cost on a 30-byte address).
   */
  hashRange(source: Uint8Array, start: number, end: number): this {
    const length = end - start;
    if (length > this.message.length) this.reserve(length);
    if (source !== this.source) {
      this.source = source;
      this.sourceView = new DataView(source.buffer, source.byteOffset, source.byteLength);
    }
    const from = this.sourceView as DataView;
    const to = this.memoryView;
    let index = 0;
    for (; index + 4 <= length; index += 4)
      to.setUint32(MESSAGE + index, from.getUint32(start + index, true), true);
    const message = this.message;
    for (; index < length; index++) message[index] = source[start + index] as number;
    return this.hashMessage(length);
  }

  /** Room for a message of `length` bytes, to be written there and hashed by `hashScratch`. */
  scratch(length: number): Uint8Array {
    if (length > this.message.length) this.reserve(length);
    return this.message;
  }

  /** Hashes bytes [0, length) of the last `scratch`. */
  hashScratch(length: number): this {
    return this.hashMessage(length);
  }

  /** Hashes bytes [0, length) of `m`. */
  hash(m: Uint8Array, length: number): this {
    if (length > this.message.length) this.reserve(length);
    this.message.set(m.subarray(0, length));
    return this.hashMessage(length);
  }

  private hashMessage(length: number): this {
    this.exports.hash(length);
    this.lo = this.result[0] as number;
    this.hi = this.result[1] as number;
    return this;
  }

  private reserve(bytes: number): void {
    const memory = this.exports.memory;
    reserveMemory(memory, MESSAGE + bytes);
    this.message = new Uint8Array(memory.buffer, MESSAGE);
    this.memoryView = new DataView(memory.buffer);
    this.result = new Uint32Array(memory.buffer, 0, 2);
  }

  /** The result as 16 lower-case hex digits (big-endian u64). */
  hex(): string {
    return hex64(this.hi, this.lo);
  }
}
