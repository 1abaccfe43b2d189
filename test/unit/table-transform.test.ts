import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { type ColumnRule, compileRule, parseRule } from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { decodeField, encodeField } from '../../src/format/copy-text.js';

const RULES: ColumnRule[] = (
  ['null', 'hash', 'email', { mask: { keepLast: 2 } }, { fake: 'location.streetAddress' }] as const
).map(parseRule);
const prf = new KeyedPrf('transform-secret');

describe('table transform', () => {
  it('masks exactly the ruled fields and copies every other byte as it was (any values, any rule placement)', () => {
    const field = fc.option(fc.string({ unit: 'grapheme' }), { nil: null });
    fc.assert(
      fc.property(
        fc.array(field, { minLength: 1, maxLength: 9 }),
        fc.array(fc.tuple(fc.nat(8), fc.nat(RULES.length - 1)), { maxLength: 4 }),
        (values, picks) => {
          const columns = values.map((_, index) => `c${index}`);
          const rules: Record<string, ColumnRule> = {};
          for (const [column, rule] of picks) if (column < values.length) rules[`c${column}`] = RULES[rule]!;
          const transform = compileTableTransform(
            'public.t',
            columns,
            rules,
            new Map(),
            prf,
            'example.invalid',
          );
          const line = values.map(encodeField).join('\t');
          // reference: split, mask the ruled fields independently, join
          const expected = line
            .split('\t')
            .map((raw, index) => {
              const rule = rules[`c${index}`];
              if (!rule) return raw;
              const mask = compileRule(rule, { prf, type: 'text', domain: 'example.invalid' });
              return encodeField(mask(raw === '\\N' ? null : decodeField(raw), () => null));
            })
            .join('\t');
          expect(transform.line(line)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a row with fewer fields than a rule needs is an error, not a silently shifted row', () => {
    const transform = compileTableTransform(
      'public.t',
      ['a', 'b', 'c'],
      { c: parseRule('null') },
      new Map(),
      prf,
      'x.invalid',
    );
    expect(() => transform.line('1\t2')).toThrow(/fewer than 3 fields/);
  });
});
