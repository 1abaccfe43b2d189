import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digest, digestBytes, digestHigh } from '../../src/anonymize/digest.js';

// The tables of the masking loop key a value by digest() on the string path and by digestBytes()
// on the bytes path: the two must agree on every plain field, or a unique column's two paths
// would not see each other's outputs.

describe('digest', () => {
  it('of a string and of its bytes are the same 64 bits, wherever the bytes sit', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0xff }).map((code) => String.fromCharCode(code)) }),
        fc.nat({ max: 7 }),
        (text, offset) => {
          const bytes = Buffer.concat([
            Buffer.alloc(offset, 0x41),
            Buffer.from(text, 'latin1'),
            Buffer.from('x'),
          ]);
          const lo = digest(text);
          const hi = digestHigh();
          expect(digestBytes(bytes, offset, offset + text.length)).toBe(lo);
          expect(digestHigh()).toBe(hi);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('tells apart values that differ in one place, in order, or by a trailing zero', () => {
    const seen = new Set<string>();
    const add = (text: string) => {
      const lo = digest(text) >>> 0;
      seen.add(`${digestHigh() >>> 0}:${lo}`);
    };
    const values = ['', '\u0000', '\u0000\u0000', 'a', 'a\u0000', 'ab', 'ba', 'abc', 'acb', 'ab\u0000c'];
    // Four code units to a word where all are below 256, two where one is not: either way apart.
    values.push(
      'abcd',
      'abce',
      'Ābcd',
      'aĀcd',
      'abcĀ',
      'Ā',
      'ĀĀĀĀ',
      'ĀĀĀĀa',
      'aĀĀĀĀ',
      '\u0100\u0000',
      '\u0000\u0100',
    );
    values.push('\u0001\u0000\u0000\u0000', '\u0000\u0001\u0000\u0000', 'ąęść', 'ąęśćx', 'żółw');
    for (let index = 0; index < 200_000; index++) values.push(`user${index}@example.com`);
    for (const value of values) add(value);
    expect(seen.size).toBe(values.length);
  });
});
