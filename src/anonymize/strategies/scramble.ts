// `scramble` — keeps a value's shape and nothing else: each ASCII digit becomes a keyed digit, each
// ASCII letter a keyed letter of the same case; spaces, dashes, brackets and every other character
// stay where they were. A postal code stays a postal code of its length (`98122` → `40375`,
// `WX3 6FW` → `KQ8 1ZD`), a phone number keeps its format (`(206) 555-9857`). The same value always
// gets the same output (joins hold), and never its own original when it holds a letter or digit.
import { z } from 'zod';
import { remainder } from '../prf/keyed-prf.js';
import { type Strategy, TEXT_TYPES } from './strategy.js';

const DIGITS = '0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A small keyed stream: xorshift128 seeded with the value's four keyed words. */
class Stream {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(words: Uint32Array) {
    this.a = words[0]! | 1;
    this.b = words[1]!;
    this.c = words[2]!;
    this.d = words[3]!;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    let t = this.d;
    const s = this.a;
    this.d = this.c;
    this.c = this.b;
    this.b = s;
    t ^= t << 11;
    t ^= t >>> 8;
    this.a = (t ^ s ^ (s >>> 19)) >>> 0;
    return remainder(this.a, n);
  }
}

/** Replaces digits and letters with keyed ones of the same class, keeping everything else. */
export const scrambleStrategy: Strategy<'scramble', Record<string, never>> = {
  name: 'scramble',
  options: z.strictObject({}),
  bare: {},
  writes: 'text-like columns',
  accepts: (type) => TEXT_TYPES.has(type),
  leakCheckable: true,
  memoize: true,
  readsRow: () => false,
  // A keyed draw per value, not a one-to-one map: two values can meet (and few shapes have few
  // outputs: five digits are 100,000), so a column with a unique index gets `hash`.
  misfit: (_options, column) =>
    column.unique
      ? 'the column has a unique index and scramble can give two values the same output'
      : undefined,
  compile: (_options, ctx) => {
    const { prf } = ctx;
    const scramble = (value: string, key: string): string => {
      const stream = new Stream(prf.wide(key));
      let out = '';
      for (let index = 0; index < value.length; index++) {
        const code = value.charCodeAt(index);
        if (code >= 48 && code <= 57) out += DIGITS[stream.below(10)];
        else if (code >= 97 && code <= 122) out += LOWER[stream.below(26)];
        else if (code >= 65 && code <= 90) out += UPPER[stream.below(26)];
        else out += value[index];
      }
      return out;
    };
    return (value) => {
      if (value === null) return null;
      let out = scramble(value, value);
      // A value with one digit comes back as itself one time in ten: draw again, keyed apart.
      for (let attempt = 1; out === value && attempt <= 16 && /[0-9A-Za-z]/.test(value); attempt++)
        out = scramble(value, `${value}\u0000scramble${attempt}`);
      return out;
    };
  },
};
