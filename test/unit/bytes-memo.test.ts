import { describe, expect, it } from 'vitest';
import { BytesMemo } from '../../src/anonymize/bytes-memo.js';
import { ByteSink } from '../../src/anonymize/copy-bytes.js';
import { MEMO_ENTRIES, MEMO_MAX_LENGTH, MEMO_TRIAL } from '../../src/anonymize/memo-masker.js';

/** Looks `key` up; on a miss writes `masked(key)` and stores it. Returns whether it was a hit and what the sink got. */
function lookup(memo: BytesMemo, key: string, masked: (key: string) => string) {
  const source = Buffer.from(`<${key}>`, 'latin1');
  const sink = new ByteSink(16);
  sink.field('row\t');
  const at = sink.length;
  const hit = memo.hit(source, 1, source.length - 1, sink);
  if (!hit) {
    sink.field(masked(key));
    memo.store(source, 1, source.length - 1, sink, at);
  }
  return { hit, field: sink.bytes().subarray(at).toString('latin1') };
}

describe('BytesMemo', () => {
  it('gives back each key its own stored field, digests of both signs and prefixes of one another among them', () => {
    const memo = new BytesMemo();
    const masked = (key: string) => `m(${key})`;
    const keys = Array.from({ length: 5000 }, (_, index) => 'k'.repeat(index % 7) + String(index));
    for (const key of keys) expect(lookup(memo, key, masked)).toEqual({ hit: false, field: masked(key) });
    for (const key of keys) expect(lookup(memo, key, masked)).toEqual({ hit: true, field: masked(key) });
    // The empty key and keys that differ in one byte only.
    expect(lookup(memo, '', masked).hit).toBe(false);
    expect(lookup(memo, '', masked)).toEqual({ hit: true, field: 'm()' });
    expect(lookup(memo, 'k1', masked).field).toBe('m(k1)');
  });

  it('does not cache keys longer than the string cache does', () => {
    const memo = new BytesMemo();
    const long = 'x'.repeat(MEMO_MAX_LENGTH + 1);
    lookup(memo, long, () => 'a');
    expect(lookup(memo, long, () => 'b')).toEqual({ hit: false, field: 'b' });
  });

  it('starts over when full and still answers right', () => {
    const memo = new BytesMemo();
    const masked = (key: string) => `v${key}`;
    // Half the lookups repeat, so the cache stays on past the trial while it fills and clears.
    for (let index = 0; index < MEMO_ENTRIES * 3; index++) {
      const key = String(index % 2 === 0 ? index : index - 1);
      expect(lookup(memo, key, masked).field).toBe(masked(key));
    }
    expect(memo.caching()).toBe(true);
  });

  it('outgrows a small arena, starting over each time it doubles, and still answers right', () => {
    // The warm-up's memo (warm-masking.ts): 64 bytes hold three entries of these.
    const memo = new BytesMemo(64);
    const masked = (key: string) => `masked-${key}`;
    const keys = Array.from({ length: 400 }, (_, index) => `key-${index}`);
    for (const key of keys) expect(lookup(memo, key, masked)).toEqual({ hit: false, field: masked(key) });
    // The arena doubled to 8 KiB on the way, dropping what it held: the last keys are still there.
    for (const key of keys.slice(-50))
      expect(lookup(memo, key, masked)).toEqual({ hit: true, field: masked(key) });
    expect(lookup(memo, 'key-0', () => 'again')).toEqual({ hit: false, field: 'again' });
  });

  it('grows a small arena at once to an entry larger than twice its size', () => {
    const memo = new BytesMemo(64);
    const long = (key: string) => `${key}:${'x'.repeat(300)}`;
    expect(lookup(memo, 'big', long)).toEqual({ hit: false, field: long('big') });
    expect(lookup(memo, 'big', long)).toEqual({ hit: true, field: long('big') });
  });

  it('switches itself off after the trial when values barely repeat', () => {
    const memo = new BytesMemo();
    for (let index = 0; index < MEMO_TRIAL + 10; index++) lookup(memo, `u${index}`, (key) => key);
    expect(memo.caching()).toBe(false);
    expect(lookup(memo, 'u1', () => 'fresh')).toEqual({ hit: false, field: 'fresh' });
  });
});
