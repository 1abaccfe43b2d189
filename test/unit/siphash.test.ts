import { describe, expect, it } from 'vitest';
import { SipHash24 } from '../../src/anonymize/prf/siphash.js';

// Reference values from the SipHash paper (appendix A) and its reference implementation's
// vectors: key 00 01 … 0f, messages 00 01 … (n-1).
const key = Uint8Array.from({ length: 16 }, (_, i) => i);
const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
const VECTORS: [number, string][] = [
  [0, '726fdb47dd0e0e31'],
  [1, '74f839c593dc67fd'],
  [7, 'ab0200f58b01d137'],
  [8, '93f5f5799a932462'],
  [15, 'a129ca6149be45e5'],
  [16, '3f2acc7f57c29bdb'],
  [63, '958a324ceb064572'],
];

describe('SipHash-2-4', () => {
  it.each(VECTORS)('matches the reference for a %i-byte message', (n, expected) => {
    expect(new SipHash24(key).hash(message(n), n).hex()).toBe(expected);
  });

  it('hashes strings as UTF-8, and long ones too', () => {
    const sip = new SipHash24(key);
    expect(sip.hashString('\u0000\u0001\u0002\u0003\u0004\u0005\u0006').hex()).toBe('ab0200f58b01d137');
    const long = 'é'.repeat(500);
    expect(sip.hashString(long).hex()).toBe(
      new SipHash24(key).hash(new TextEncoder().encode(long), 1000).hex(),
    );
  });
});
