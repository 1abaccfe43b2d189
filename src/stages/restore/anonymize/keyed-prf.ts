// Keyed pseudo-random functions of the anonymization secret. `digest`/`hex` are HMAC-SHA256
// (the `hash` strategy's promise); `token`, `uint32` and `wide` use SipHash-2-4 keyed by
// SHA-256(secret) — a PRF too, but ~10× cheaper per value than a call into Node's crypto
// (measured here: createHmac 2.5 µs, hash.copy() 3.4 µs, SipHash in JS ~0.3 µs).
import { createHash, createHmac } from 'node:crypto';
import { SipHash24 } from './siphash.js';

export class KeyedPrf {
  private readonly sip: SipHash24;
  private readonly sip2: SipHash24;
  private readonly wideBuffer = Buffer.alloc(16);

  constructor(private readonly key: string) {
    const keys = createHash('sha256').update(`staging-refresh:siphash:${key}`).digest();
    this.sip = new SipHash24(keys.subarray(0, 16));
    this.sip2 = new SipHash24(keys.subarray(16, 32));
  }

  /** HMAC-SHA256(key, message): 32 bytes. */
  digest(message: string): Buffer {
    return createHmac('sha256', this.key).update(message, 'utf8').digest();
  }

  /** HMAC-SHA256 as hex, `length` characters. */
  hex(message: string, length = 64): string {
    return this.digest(message).toString('hex').slice(0, length);
  }

  /** 64 keyed bits as 16 hex digits (unique in practice: collisions ~n²/2^65). */
  token(message: string): string {
    return this.sip.hashString(message).hex();
  }

  /** An unsigned 32-bit integer. */
  uint32(message: string): number {
    return this.sip.hashString(message).lo;
  }

  /** 16 keyed bytes (two SipHash outputs under two keys); the buffer is reused by the next call. */
  wide(message: string): Buffer {
    this.sip.hashString(message);
    this.sip2.hashString(message);
    this.wideBuffer.writeUInt32BE(this.sip.hi, 0);
    this.wideBuffer.writeUInt32BE(this.sip.lo, 4);
    this.wideBuffer.writeUInt32BE(this.sip2.hi, 8);
    this.wideBuffer.writeUInt32BE(this.sip2.lo, 12);
    return this.wideBuffer;
  }
}
