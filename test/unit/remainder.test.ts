import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { remainder } from '../../src/anonymize/prf/keyed-prf.js';

// The fakes, hashes, scramble and the leak sample pick with `remainder` instead of `%`: the same
// numbers, or a masked value would change between versions.
describe('remainder', () => {
  it('is % for any 32-bit word and any divisor up to 2^53', () => {
    const word = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    const divisor = fc.oneof(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      fc.integer({ min: 2 ** 31, max: 2 ** 32 + 5 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    );
    fc.assert(
      fc.property(word, divisor, (value, by) => {
        expect(remainder(value, by)).toBe(value % by);
      }),
      { numRuns: 20_000 },
    );
  });

  it('is % where the quotient is nearest to rounding up: one below a multiple, at the top of the range', () => {
    for (const by of [3, 7, 65_521, 2 ** 16 + 1, 2 ** 31 - 1, 2 ** 31 + 11, 2 ** 32 - 5]) {
      for (let k = Math.floor((2 ** 32 - 1) / by); k > 0 && k > Math.floor((2 ** 32 - 1) / by) - 3; k--) {
        for (const value of [k * by - 1, k * by, k * by + 1].filter((v) => v >= 0 && v < 2 ** 32))
          expect(remainder(value, by)).toBe(value % by);
      }
    }
  });
});
