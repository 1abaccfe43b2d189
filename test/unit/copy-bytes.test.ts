import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { type ColumnRule, parseRule } from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { encodeField } from '../../src/format/copy-text.js';

// The byte path (Buffers from pg_restore to COPY) against the string path it replaced, which
// stays as the reference: the same masked bytes for any rows, any values (escapes, NULLs,
// multi-byte characters, characters outside the BMP) and any rule placement.
const RULES: ColumnRule[] = (
  [
    'null',
    'hash',
    'email',
    { mask: { keepLast: 2 } },
    { fake: 'location.streetAddress' },
    'scramble',
    { fixed: 'tab\there\\back' },
    { fixed: 'ünïcødé\n' },
  ] as const
).map(parseRule);
const prf = new KeyedPrf('bytes-secret');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

describe('COPY text on bytes', () => {
  it('masks to exactly the bytes the string path gives', () => {
    const field = fc.option(
      fc.oneof(
        fc.string({ unit: 'grapheme' }),
        fc.string({ unit: 'binary' }),
        fc.constantFrom('\\N', '\\', 'é'),
      ),
      { nil: null },
    );
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 7 })
          .chain((width) =>
            fc.tuple(
              fc.constant(width),
              fc.array(fc.array(field, { minLength: width, maxLength: width }), { maxLength: 12 }),
              fc.array(fc.tuple(fc.nat(width - 1), fc.nat(RULES.length - 1)), { maxLength: 4 }),
            ),
          ),
        ([width, rows, picks]) => {
          const columns = Array.from({ length: width }, (_, index) => `c${index}`);
          const rules: Record<string, ColumnRule> = {};
          for (const [column, rule] of picks) rules[`c${column}`] = RULES[rule] as ColumnRule;
          const compile = () =>
            compileTableTransform('public.t', columns, rules, new Map(), prf, 'x.invalid');
          // Lone surrogates cannot be UTF-8: the archive never holds them.
          const text = rows
            .map((row) => `${row.map(encodeField).join('\t')}\n`)
            .join('')
            .replace(LONE_SURROGATE, '\uFFFD');
          const bytes = Buffer.from(`pre\n${text}post`, 'utf8');
          const start = 4;
          const end = bytes.length - 4;
          const expected = compile().rows(text, 0, text.length);
          const got = compile().bytes(bytes, start, end);
          expect(got.out.toString('utf8')).toBe(expected.out);
          expect(got.rows).toBe(expected.rows);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a short row is an error naming the table, as on the string path', () => {
    const transform = compileTableTransform(
      'public.t',
      ['a', 'b', 'c'],
      { c: parseRule('hash') },
      new Map(),
      prf,
      'x',
    );
    expect(() => transform.bytes(Buffer.from('1\t2\n'), 0, 4)).toThrow(/public\.t has fewer than 3 fields/);
  });
});
