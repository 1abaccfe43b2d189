import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { effectivePartSize } from '../../src/sources/s3/download-object.js';

const MiB = 1024 * 1024;

describe('ranged download part size', () => {
  it('gives every connection two parts or more, no more parts than rounds need, parts between 5 MiB and partSize', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 5 * MiB, max: 512 * MiB }),
        fc.integer({ min: 1, max: 64 }),
        (bytes, partSize, concurrency) => {
          const size = effectivePartSize(bytes, partSize, concurrency);
          expect(size).toBeLessThanOrEqual(partSize);
          expect(size).toBeGreaterThanOrEqual(Math.min(partSize, 5 * MiB));
          const parts = Math.ceil(bytes / size);
          if (size > 5 * MiB) expect(parts).toBeGreaterThanOrEqual(concurrency * 2);
          // Equal rounds: never a round more than partSize needs.
          const rounds = Math.max(2, Math.ceil(bytes / (concurrency * partSize)));
          expect(parts).toBeLessThanOrEqual(Math.max(concurrency * rounds, Math.ceil(bytes / (5 * MiB))));
        },
      ),
    );
  });

  it('keeps the configured size for a big backup and splits a 100 MB one finer', () => {
    expect(effectivePartSize(50 * 1024 * MiB, 16 * MiB, 4)).toBe(16 * MiB);
    expect(effectivePartSize(106_000_000, 16 * MiB, 4)).toBe(Math.ceil(106_000_000 / 8));
    // 70 MB at 16 MiB would be five parts, four connections, the last round on one: eight of 8.75 MB.
    expect(effectivePartSize(70_000_000, 16 * MiB, 4)).toBe(8_750_000);
    expect(effectivePartSize(10 * MiB, 16 * MiB, 4)).toBe(5 * MiB);
  });
});
