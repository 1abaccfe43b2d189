import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SipHash24 } from '../../src/anonymize/prf/siphash.js';
import { WasmSipHash24 } from '../../src/anonymize/prf/siphash-wasm.js';

describe('SipHash-2-4 in WebAssembly', () => {
  it('gives the JavaScript reference’s bits for any key and any message, as bytes or as a string', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.string({ unit: 'grapheme', maxLength: 80 }),
        (key, bytes, text) => {
          const js = new SipHash24(key);
          const wasm = new WasmSipHash24(key);
          expect(wasm.hash(bytes, bytes.length).hex()).toBe(js.hash(bytes, bytes.length).hex());
          expect(wasm.hashString(text).hex()).toBe(js.hashString(text).hex());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches the paper’s vector and grows its memory for a long value', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const wasm = new WasmSipHash24(key);
    expect(
      wasm
        .hash(
          Uint8Array.from({ length: 15 }, (_, i) => i),
          15,
        )
        .hex(),
    ).toBe('a129ca6149be45e5');
    const long = 'é'.repeat(100_000); // 200 kB: past the module's first 64 KiB page
    expect(wasm.hashString(long).hex()).toBe(new SipHash24(key).hashString(long).hex());
    expect(wasm.hashString('short again').hex()).toBe(new SipHash24(key).hashString('short again').hex());
  });

  it('hashes a range of a buffer as the reference hashes those bytes: offsets, one source after another, after growing', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i * 3);
    const js = new SipHash24(key);
    const wasm = new WasmSipHash24(key);
    const sources = [0, 3, 5].map((offset) => {
      const whole = Buffer.alloc(300 + offset);
      for (let index = 0; index < whole.length; index++) whole[index] = (index * 37 + offset) & 0xff;
      return whole.subarray(offset);
    });
    fc.assert(
      fc.property(
        fc.array(fc.record({ source: fc.nat(2), start: fc.nat(150), length: fc.nat(120) }), {
          maxLength: 20,
        }),
        (ranges) => {
          for (const range of ranges) {
            const source = sources[range.source] as Buffer;
            const bytes = source.subarray(range.start, range.start + range.length);
            expect(wasm.hashRange(source, range.start, range.start + range.length).hex()).toBe(
              js.hash(bytes, bytes.length).hex(),
            );
          }
        },
      ),
      { numRuns: 300 },
    );
    // A range longer than the module's first page grows its memory; ranges after it still agree.
    const long = Buffer.alloc(100_000, 0x61);
    expect(wasm.hashRange(long, 1, long.length).hex()).toBe(js.hash(long.subarray(1), long.length - 1).hex());
    const source = sources[1] as Buffer;
    expect(wasm.hashRange(source, 7, 40).hex()).toBe(js.hash(source.subarray(7, 40), 33).hex());
  });
});
