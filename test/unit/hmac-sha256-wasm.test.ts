import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from '../../src/anonymize/prf/hmac-sha256.js';
import { HmacSha256x4, LANE_BYTES } from '../../src/anonymize/prf/hmac-sha256-wasm.js';

// Four MACs in one SIMD pass against the JavaScript HmacSha256 (itself checked against
// node:crypto): the same 32 bytes for any key and any four messages of up to one block.
const laneHex = (batch: HmacSha256x4, lane: number) =>
  Array.from({ length: 8 }, (_, index) => batch.word(lane, index).toString(16).padStart(8, '0')).join('');

describe('HmacSha256x4', () => {
  it('gives each lane the MAC HmacSha256 gives, for arbitrary keys and messages', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 150 }),
        fc.array(fc.uint8Array({ maxLength: LANE_BYTES }), { minLength: 4, maxLength: 4 }),
        (key, messages) => {
          const batch = new HmacSha256x4(key);
          const mac = new HmacSha256(key);
          // Each message inside a larger buffer, as the masking loop hands fields over.
          messages.forEach((message, lane) => {
            const source = Buffer.concat([Buffer.from('pre'), message, Buffer.from('post')]);
            batch.lane(lane, source, 3, 3 + message.length);
          });
          batch.run();
          messages.forEach((message, lane) => {
            const expected = Buffer.alloc(64);
            mac.hexInto(message, 0, message.length, expected, 0);
            expect(laneHex(batch, lane)).toBe(expected.toString('latin1'));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('matches node:crypto at every length a lane takes, the RFC 4231 case among them', () => {
    const batch = new HmacSha256x4('Jefe');
    for (let length = 0; length <= LANE_BYTES; length++) {
      const message = Buffer.from('what do ya want for nothing?'.padEnd(length, '!').slice(0, length));
      batch.lane(length % 4, message, 0, message.length);
      batch.run();
      expect(laneHex(batch, length % 4)).toBe(createHmac('sha256', 'Jefe').update(message).digest('hex'));
    }
    const rfc = Buffer.from('what do ya want for nothing?');
    batch.lane(2, rfc, 0, rfc.length);
    batch.run();
    expect(laneHex(batch, 2)).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
});
