import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectivePartSize } from '../../src/sources/s3/download-object.js';

const MiB = 1024 * 1024;

describe('ranged download part size', () => {
  it('gives every connection four parts or more while parts stay between 5 MiB and partSize', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 5 * MiB, max: 512 * MiB }),
        fc.integer({ min: 1, max: 64 }),
        (bytes, partSize, concurrency) => {
          const size = effectivePartSize(bytes, partSize, concurrency);
          expect(size).toBeLessThanOrEqual(partSize);
          expect(size).toBeGreaterThanOrEqual(Math.min(partSize, 5 * MiB));
          if (size > 5 * MiB) expect(Math.ceil(bytes / size)).toBeGreaterThanOrEqual(concurrency * 4);
        },
      ),
    );
  });

  it('keeps the configured size for a big backup and splits a 100 MB one finer', () => {
    expect(effectivePartSize(50 * 1024 * MiB, 16 * MiB, 4)).toBe(16 * MiB);
    expect(effectivePartSize(106_000_000, 16 * MiB, 4)).toBe(Math.ceil(106_000_000 / 16));
    expect(effectivePartSize(10 * MiB, 16 * MiB, 4)).toBe(5 * MiB);
  });
});
