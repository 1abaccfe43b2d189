import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from '../../src/anonymize/prf/hmac-sha256.js';

const reference = (key: string, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();

describe('HmacSha256', () => {
  it('matches node:crypto on arbitrary keys and texts (any length, any Unicode)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 150 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        (key, text) => {
          const mac = new HmacSha256(key);
          expect(mac.hex(text)).toBe(reference(key, text).toString('hex'));
          expect(mac.hex(text, 16)).toBe(reference(key, text).toString('hex').slice(0, 16));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches at every padding boundary, reusing one instance across lengths', () => {
    const mac = new HmacSha256('k'.repeat(100)); // a key longer than a block is hashed first
    for (let length = 0; length <= 300; length++) {
      const text = 'é'.repeat(length % 7) + 'x'.repeat(length);
      expect(mac.hex(text)).toBe(reference('k'.repeat(100), text).toString('hex'));
    }
  });

  it('gives the RFC 4231 test case 2 value', () => {
    expect(new HmacSha256('Jefe').hex('what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });
});
