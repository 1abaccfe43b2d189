// 64-bit digests of values for the tables that keep them in the masking loop (unique-masker.ts's
// outputs, bytes-memo.ts's keys): the low half returned, the high half from digestHigh(), no
// allocation. Not keyed (the values never leave the process), just well mixed.
import { fmix32 } from './prf/keyed-prf.js';

/** The high half of the last digest (the low half is returned). */
let digestHi = 0;

/** The high half of the last digest taken. */
export function digestHigh(): number {
  return digestHi;
}

/**
 * A 64-bit digest of a string's UTF-16 code units, two to a 32-bit word: two murmur3-style 32-bit
 * lanes with different seeds, finalised with fmix32. Not keyed (the values never leave the
 * process), just well mixed.
 */
export function digest(text: string): number {
  const length = text.length;
  let a = 0x9747b28c ^ length;
  let b = 0x3c6ef372 ^ Math.imul(length, 0x85ebca6b);
  let index = 0;
  for (; index + 1 < length; index += 2) {
    const word = text.charCodeAt(index) | (text.charCodeAt(index + 1) << 16);
    a = laneA(a, word);
    b = laneB(b, word);
  }
  if (index < length) {
    a = laneA(a, text.charCodeAt(index));
    b = laneB(b, text.charCodeAt(index));
  }
  return finish(a, b);
}

/** digest() of bytes [start, end) read as code units: a plain ASCII field's digest as a string. */
export function digestBytes(bytes: Uint8Array, start: number, end: number): number {
  let a = 0x9747b28c ^ (end - start);
  let b = 0x3c6ef372 ^ Math.imul(end - start, 0x85ebca6b);
  let index = start;
  for (; index + 1 < end; index += 2) {
    const word = (bytes[index] as number) | ((bytes[index + 1] as number) << 16);
    a = laneA(a, word);
    b = laneB(b, word);
  }
  if (index < end) {
    a = laneA(a, bytes[index] as number);
    b = laneB(b, bytes[index] as number);
  }
  return finish(a, b);
}

const laneA = (a: number, code: number): number => {
  const x = Math.imul(a ^ code, 0xcc9e2d51);
  return (x << 15) | (x >>> 17);
};

const laneB = (b: number, code: number): number => {
  let x = Math.imul(b ^ code, 0x1b873593);
  x = (x << 13) | (x >>> 19);
  return (Math.imul(x, 5) + 0xe6546b64) | 0;
};

/** The low half of the digest; the high half into digestHi. */
function finish(a: number, b: number): number {
  digestHi = fmix32(b ^ a);
  return fmix32(a ^ Math.imul(b, 0x85ebca6b));
}
