import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { formatPgArray, type PgArray, parsePgArray } from '../../src/anonymize/strategies/pg-array.js';
import { compileRule, parseRule, ruleMisfit } from '../../src/anonymize/strategies/registry.js';

const ctx = (type: string) => ({ prf: new KeyedPrf('secret'), type, domain: 'example.invalid' });
const row = () => null;

describe('PostgreSQL array text', () => {
  it('reads back what it writes, for any strings, nulls and nesting', () => {
    const element = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constant(null),
      fc.constantFrom('NULL', 'a b', '{x}', '"', '\\'),
    );
    const items = fc.array(element, { maxLength: 6 }) as fc.Arbitrary<PgArray>;
    fc.assert(
      fc.property(fc.oneof(items, fc.array(items, { minLength: 1, maxLength: 3 })), (list) => {
        const text = formatPgArray({ bounds: '', items: list as PgArray });
        expect(parsePgArray(text).items).toEqual(list);
      }),
    );
  });

  it('reads what PostgreSQL writes: quotes, escapes, NULL, bounds', () => {
    expect(parsePgArray('{a,"b c",NULL,"NULL","x\\"y"}').items).toEqual(['a', 'b c', null, 'NULL', 'x"y']);
    expect(parsePgArray('[0:1]={1,2}')).toEqual({ bounds: '[0:1]=', items: ['1', '2'] });
    expect(parsePgArray('{{a,b},{c,d}}').items).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(() => parsePgArray('not an array')).toThrow();
  });
});

describe('array strategy', () => {
  it('masks each element with its rule and keeps nulls and shape', () => {
    const mask = compileRule(parseRule({ array: { each: 'email' } }), ctx('_text'));
    const masked = mask('{ann@real.example,NULL,"bob smith@real.example"}', row) as string;
    const items = parsePgArray(masked).items;
    expect(items).toHaveLength(3);
    expect(items[1]).toBeNull();
    expect(masked).not.toContain('real.example');
    expect(mask('{ann@real.example}', row)).toBe(mask('{ann@real.example}', row));
    expect(mask('garbage', row)).toBeNull();
  });

  it('refuses an element rule that does not fit the element type', () => {
    expect(ruleMisfit(parseRule({ array: { each: 'email' } }), { type: '_int4' })).toMatch(
      /array elements: email/,
    );
    expect(ruleMisfit(parseRule({ array: { each: 'hash' } }), { type: 'text' })).toMatch(/array columns/);
  });
});

describe('ip strategy', () => {
  it('keeps family and prefix length, zeroes cidr host bits, same input same output', () => {
    const inet = compileRule(parseRule('ip'), ctx('inet'));
    const v4 = inet('203.0.113.7', row) as string;
    expect(isIPv4(v4) && v4.startsWith('10.')).toBe(true);
    expect(inet('203.0.113.7', row)).toBe(v4);
    expect(inet('203.0.113.8', row)).not.toBe(v4);
    expect(inet('198.51.100.1/24', row)).toMatch(/^10\.\d+\.\d+\.\d+\/24$/);
    const v6 = inet('2001:db8::1', row) as string;
    expect(isIPv6(v6) && v6.startsWith('fd')).toBe(true);
    const cidr = compileRule(parseRule('ip'), ctx('cidr'));
    expect(cidr('198.51.100.0/24', row)).toMatch(/^10\.\d+\.\d+\.0\/24$/);
    expect(cidr('2001:db8::/32', row)).toMatch(
      /^fd[0-9a-f]{2}:[0-9a-f]{4}:0000:0000:0000:0000:0000:0000\/32$/,
    );
    expect(inet('not an address', row)).toBeNull();
    expect(ruleMisfit(parseRule('ip'), { type: 'int4' })).toMatch(/ip writes inet/);
  });
});
