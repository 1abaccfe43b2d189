import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ByteSink,
  ESCAPED,
  fieldEnd,
  nextTab,
  PLAIN,
  scanned,
  UTF8,
  viewOf,
} from '../../src/anonymize/copy-bytes.js';
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
    // A block cut inside a row (no newline before its end) is refused, not read past its end.
    expect(() => transform.bytes(Buffer.from('1\t2\t3\n4\t5\t6\n'), 0, 9)).toThrow(
      /public\.t ends inside a row/,
    );
  });

  it("finds a field's end and tells plain, UTF-8 and escaped fields apart as Node's own UTF-8 check does", () => {
    // Random bytes, biased towards sequences that are almost UTF-8 (overlong, surrogate, cut short).
    const byte = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0x80, max: 0xbf }),
      fc.constantFrom(0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x5c, 0x0d),
      // Control characters that are not escapes (plain), and the edges of the word test.
      fc.constantFrom(0x00, 0x01, 0x07, 0x0e, 0x1f, 0x20, 0x5b, 0x5d, 0x7f),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 40 }), fc.nat(7), (bytes, offset) => {
        const field = Buffer.from(bytes);
        // At an offset into a larger buffer, as a block inside an inflated chunk is.
        const source = Buffer.concat([
          Buffer.alloc(offset, 0x41),
          Buffer.from('a\t'),
          field,
          Buffer.from('\tz'),
        ]).subarray(offset);
        const view = viewOf(source);
        const escaped = bytes.some((code) => code === 0x5c || (code >= 8 && code <= 13)) || !isUtf8(field);
        const expected = escaped ? ESCAPED : bytes.some((code) => code > 0x7f) ? UTF8 : PLAIN;
        expect(fieldEnd(source, view, 2, source.length)).toBe(2 + field.length);
        expect(scanned.kind).toBe(expected);
        // The last field of a row ends at the newline it is given.
        expect(fieldEnd(source, view, 2 + field.length + 1, source.length)).toBe(source.length);
        expect(scanned.kind).toBe(PLAIN);
        expect(nextTab(source, view, 2, source.length)).toBe(2 + field.length);
      }),
      { numRuns: 5000 },
    );
    // Every lead byte with every second byte: the edges of RFC 3629's table.
    for (let lead = 0x80; lead <= 0xff; lead++)
      for (let second = 0; second <= 0xff; second++) {
        const field = Buffer.from([lead, second, 0x80, 0x80]);
        if (second === 0x5c || (second >= 8 && second <= 13)) continue;
        expect(fieldEnd(field, viewOf(field), 0, 4)).toBe(4);
        expect(scanned.kind === ESCAPED).toBe(!isUtf8(field));
      }
  });

  it('copies runs and repeats bytes exactly, whatever the source, its offset, the length, and across growth', () => {
    // More sources than the sink keeps DataViews for, at offsets into larger buffers; lengths on
    // both sides of the word loop's tail and of the Buffer#copy threshold.
    const sources = Array.from({ length: 11 }, (_, n) => {
      const whole = Buffer.alloc(400 + n);
      for (let index = 0; index < whole.length; index++) whole[index] = (index * 31 + n * 7) & 0xff;
      return whole.subarray(n % 5);
    });
    const step = fc.oneof(
      fc.record({
        source: fc.nat(sources.length - 1),
        start: fc.nat(120),
        length: fc.oneof(fc.nat(9), fc.integer({ min: 120, max: 140 }), fc.nat(260)),
      }),
      fc.record({ byte: fc.nat(255), count: fc.oneof(fc.nat(9), fc.integer({ min: 124, max: 132 })) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const sink = new ByteSink(16);
        const expected: Buffer[] = [];
        for (const one of steps) {
          if ('byte' in one) {
            sink.repeat(one.byte, one.count);
            expected.push(Buffer.alloc(one.count, one.byte));
          } else {
            const source = sources[one.source] as Buffer;
            const end = Math.min(source.length, one.start + one.length);
            sink.copy(source, one.start, end);
            expected.push(source.subarray(one.start, end));
          }
        }
        expect(sink.bytes().equals(Buffer.concat(expected))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
