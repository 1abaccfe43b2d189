import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ByteSink } from '../../src/anonymize/copy-bytes.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import {
  type ColumnRule,
  compileRule,
  compileRuleBytes,
  parseRule,
} from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { encodeField } from '../../src/format/copy-text.js';

// The bytes path of a rule (a plain field's bytes in, the masked field's bytes out) against its
// string path, the reference: byte for byte the same, for any plain value, with either SipHash.

/** A plain field: ASCII as COPY writes it unescaped (no backslash, no 8–13, no NUL). */
const plainText = fc.string({
  unit: fc
    .integer({ min: 1, max: 0x7f })
    .filter((code) => code !== 92 && (code < 8 || code > 13))
    .map((code) => String.fromCharCode(code)),
  maxLength: 80,
});

const CASES: [ColumnRule, string][] = [
  [parseRule({ mask: { keepLast: 4 } }), 'text'],
  [parseRule({ mask: { keepFirst: 2, keepLast: 3, char: '#' } }), 'varchar'],
  [parseRule({ mask: { keepFirst: 1 } }), 'text'],
  [parseRule('hash'), 'text'],
  [parseRule({ hash: { length: 4 } }), 'varchar'],
  [parseRule({ hash: { length: 64 } }), 'text'],
  [parseRule({ hash: { length: 100 } }), 'text'],
  [parseRule('hash'), 'int4'],
  [parseRule('hash'), 'int2'],
  [parseRule('hash'), 'numeric'],
  [parseRule({ fixed: 'tab\there\\back' }), 'text'],
  [parseRule({ fixed: 'ünïcødé' }), 'text'],
  [parseRule({ fixed: 42 }), 'int4'],
  [parseRule({ fixed: null }), 'text'],
  [parseRule('null'), 'text'],
  [parseRule('email'), 'text'],
  [parseRule({ email: { domain: 'staging.example' } }), 'citext'],
  [parseRule({ fake: 'person.fullName' }), 'text'],
  [parseRule({ fake: 'location.streetAddress' }), 'text'],
  [parseRule({ fake: 'internet.userName' }), 'text'],
  [parseRule({ fake: 'phone.number' }), 'text'],
  [parseRule({ fake: 'company.name' }), 'text'],
];

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

afterEach(() => {
  vi.unstubAllEnvs();
});

/** The same mailbox every other row, in capitals after a space or escaped: one output once masked. */
const mailbox = (row: number): string => {
  const base = `user${row >> 1}@corp.example`;
  return row % 2 === 0 ? base : row % 4 === 1 ? ` ${base.toUpperCase()}` : `${base}\\x`;
};

/** A transform of public.u whose `key` column has a unique key of its own (its claims owed). */
const uniqueKeyTransform = (columns: string[], rules: Record<string, ColumnRule>) =>
  compileTableTransform(
    'public.u',
    columns,
    rules,
    new Map(),
    new KeyedPrf('bytes-secret'),
    'x.invalid',
    new Set(['key']),
  );

describe('bytes maskers', () => {
  for (const prfKind of ['wasm', 'js'] as const) {
    it(`write what the string path gives, encoded (${prfKind} SipHash)`, () => {
      if (prfKind === 'js') vi.stubEnv('STAGING_REFRESH_PRF', 'js');
      const prf = new KeyedPrf('bytes-secret');
      let asciiRules = 0;
      for (const [rule, type] of CASES) {
        const ctx = { prf, type, domain: 'x.invalid' };
        const mask = compileRule(rule, ctx);
        const bytes = compileRuleBytes(rule, ctx);
        expect(bytes, JSON.stringify(rule)).toBeDefined();
        fc.assert(
          fc.property(plainText, fc.string({ maxLength: 5 }), (value, prefix) => {
            // The field somewhere inside a larger buffer, the sink already holding bytes.
            const source = Buffer.from(`${prefix}\t${value}\tafter`, 'utf8');
            const start = Buffer.byteLength(prefix) + 1;
            const sink = new ByteSink(16);
            sink.copy(Buffer.from('row\t'), 0, 4);
            bytes?.(source, start, start + value.length, sink);
            expect(sink.bytes().toString('utf8')).toBe(`row\t${encodeField(mask(value, () => null))}`);
            // A masker that says its output is plain (the unique check then does not scan it) is right.
            if (bytes?.ascii)
              expect([...sink.bytes().subarray(4)].every((byte) => byte <= 0x7f && byte !== 92)).toBe(true);
          }),
          { numRuns: 200 },
        );
        if (bytes?.ascii) asciiRules++;
      }
      // hash (text and integer) and email.
      expect(asciiRules).toBe(9);
    });
  }

  it('shift on bytes writes what the string path gives, and refuses what it refuses', () => {
    const prf = new KeyedPrf('bytes-secret');
    const two = (n: number) => String(n).padStart(2, '0');
    // Real dates of years 1–9999 (and some that are not: Feb 30, month 13), with what a date,
    // timestamp or timestamptz column's COPY text has after them.
    const dated = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 31 }),
        fc.constantFrom('', ' 12:34:56', ' 23:59:59.999999+05:30', ' 00:00:00-08', ' BC', 'T01:02:03Z'),
      )
      .map(([year, month, day, rest]) => `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}${rest}`);
    const other = fc.oneof(fc.constantFrom('infinity', '-infinity', '2024-1-01', '20240101', ''), plainText);
    for (const [range, type] of [
      ['30d', 'date'],
      ['1095000d', 'timestamptz'],
      ['1ms', 'text'],
    ] as const) {
      const rule = parseRule({ shift: range });
      const ctx = { prf, type, domain: 'x.invalid' };
      const mask = compileRule(rule, ctx);
      const bytes = compileRuleBytes(rule, ctx);
      expect(bytes).toBeDefined();
      fc.assert(
        fc.property(fc.oneof(dated, other), (value) => {
          const source = Buffer.from(`x\t${value}\ty`, 'latin1');
          const sink = new ByteSink(4);
          let expected: string;
          try {
            expected = encodeField(mask(value, () => null));
          } catch (error) {
            expect(() => bytes?.(source, 2, 2 + value.length, sink)).toThrow((error as Error).message);
            return;
          }
          bytes?.(source, 2, 2 + value.length, sink);
          expect(sink.bytes().toString('latin1')).toBe(expected);
        }),
        { numRuns: 2000 },
      );
    }
  });

  it('shift keeps the dates it moved by their digits: 128 years apart share a slot; not-dates never hit', () => {
    const rule = parseRule({ shift: '30d' });
    const ctx = { prf: new KeyedPrf('bytes-secret'), type: 'text', domain: 'x.invalid' };
    const mask = compileRule(rule, ctx);
    const bytes = compileRuleBytes(rule, ctx);
    // 1900-05-17 and 2028-05-17 share a slot; 2023-02-28 is cached before 2023-02-30 (no date,
    // refused as the string path refuses it) and 2023-02-3x (not digits) are asked.
    const values = ['1900-05-17', '2028-05-17', '1900-05-17', '2028-05-17', '2023-02-28', '2023-02-28'];
    const sink = new ByteSink(4);
    for (const value of values) bytes?.(Buffer.from(value, 'latin1'), 0, value.length, sink);
    expect(sink.bytes().toString('latin1')).toBe(values.map((value) => mask(value, () => null)).join(''));
    for (const value of ['2023-02-30', '2023-02-3x', '2023/02/28'])
      expect(() => bytes?.(Buffer.from(value, 'latin1'), 0, value.length, sink)).toThrow(/shift: /);
  });

  it('shift keeps the dates it moved by day: repeats, and two days that share a slot, as the string path', () => {
    const rule = parseRule({ shift: '3650d' });
    const ctx = { prf: new KeyedPrf('bytes-secret'), type: 'date', domain: 'x.invalid' };
    const mask = compileRule(rule, ctx);
    const bytes = compileRuleBytes(rule, ctx);
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const day = Date.UTC(1985, 2, 14);
    // 65,536 days apart: the same slot of the table of moved days (a slot taken by the other day
    // would give that day's moved date, another year).
    const [first, sharing, next] = [iso(day), iso(day + 65_536 * 86_400_000), iso(day + 86_400_000)];
    // Day 0 and days before it too: an empty slot must not pass for day 0's.
    const values = [
      ...[first, sharing, first, next, sharing, `${first} 12:00:00`, first, next, sharing],
      ...['1970-01-01', '1969-12-31', '1900-02-28', '1970-01-01', '1969-12-31', '0001-01-01'],
    ];
    const sink = new ByteSink(4);
    for (const value of values) {
      const source = Buffer.from(`x\t${value}\ty`, 'latin1');
      bytes?.(source, 2, 2 + value.length, sink);
      sink.copy(Buffer.from('\n'), 0, 1);
    }
    const expected = values.map((value) => `${mask(value, () => null)}\n`).join('');
    expect(sink.bytes().toString('latin1')).toBe(expected);
  });

  it('a hash that owes its digits until the flush writes what the string path gives, in order', () => {
    const prf = new KeyedPrf('bytes-secret');
    for (const rule of [
      parseRule('hash'),
      parseRule({ hash: { length: 64 } }),
      parseRule({ hash: { length: 5 } }),
    ]) {
      const ctx = { prf, type: 'text', domain: 'x.invalid' };
      const mask = compileRule(rule, ctx);
      const bytes = compileRuleBytes(rule, { ...ctx, deferred: true });
      expect(bytes?.flush).toBeDefined();
      fc.assert(
        fc.property(
          fc.array(fc.oneof(plainText, fc.constant('x'.repeat(56)), fc.constant('')), { maxLength: 11 }),
          (values) => {
            // One stream of fields, some too long for a lane, flushed at the end as a block is.
            const source = Buffer.from(values.join('\t'), 'latin1');
            const sink = new ByteSink(8);
            let start = 0;
            for (const value of values) {
              bytes?.(source, start, start + value.length, sink);
              sink.copy(Buffer.from(';'), 0, 1);
              start += value.length + 1;
            }
            bytes?.flush?.(sink);
            const expected = values.map((value) => `${encodeField(mask(value, () => null))};`).join('');
            expect(sink.bytes().toString('latin1')).toBe(expected);
          },
        ),
        { numRuns: 200 },
      );
    }
  });

  it('rules that read a value as UTF-8 take any field without an escape, and write what the string path gives', () => {
    const prf = new KeyedPrf('bytes-secret');
    // Any text but the characters COPY escapes (and lone surrogates, which UTF-8 cannot hold).
    const utf8Text = fc
      .string({ unit: 'grapheme', maxLength: 30 })
      .map((text) =>
        [...text.replace(LONE_SURROGATE, '')]
          .filter((char) => char !== '\\' && char !== '\u0000' && (char < '\b' || char > '\r'))
          .join(''),
      );
    let utf8Rules = 0;
    for (const [rule, type] of CASES) {
      const ctx = { prf, type, domain: 'x.invalid' };
      const bytes = compileRuleBytes(rule, { ...ctx, deferred: true });
      if (!bytes?.utf8) continue;
      utf8Rules++;
      const mask = compileRule(rule, ctx);
      fc.assert(
        fc.property(fc.array(utf8Text, { maxLength: 9 }), (values) => {
          const source = Buffer.from(values.join('\t'), 'utf8');
          const sink = new ByteSink(8);
          let start = 0;
          for (const value of values) {
            const end = start + Buffer.byteLength(value);
            bytes(source, start, end, sink);
            sink.copy(Buffer.from(';'), 0, 1);
            start = end + 1;
          }
          bytes.flush?.(sink);
          const expected = values.map((value) => `${encodeField(mask(value, () => null))};`).join('');
          expect(sink.bytes().toString('utf8')).toBe(expected);
        }),
        { numRuns: 100 },
      );
    }
    // hash (text and integer), fake, fixed, null — not mask or email, which read characters.
    expect(utf8Rules).toBe(17);
  });

  it('bytes that are not UTF-8 and raw control characters take the string path: the same output as decoding first', () => {
    // A LATIN1 database's 'Müller' (0xFC) and a stray CR: the string path decodes (U+FFFD for the
    // bad byte) and escapes; the bytes path must not hash or copy the raw bytes instead.
    const columns = ['id', 'name', 'ref', 'card', 'email'];
    const rules: Record<string, ColumnRule> = {
      name: parseRule({ fake: 'person.fullName' }),
      ref: parseRule('hash'),
      card: parseRule({ mask: { keepFirst: 1 } }),
      email: parseRule('email'),
    };
    const rows: Buffer[] = [];
    for (let row = 0; row < 200; row++) {
      rows.push(
        Buffer.concat([
          Buffer.from(`${row}\tM`),
          Buffer.from([0xfc]),
          Buffer.from(`ller${row % 5}\tR`),
          Buffer.from([row % 2 ? 0xe9 : 0xc3, 0x28]), // a lone Latin-1 byte; a broken two-byte sequence
          Buffer.from(`\t`),
          Buffer.from([0x0d]),
          Buffer.from(`ab${row}\ta@b.c`),
          Buffer.from([0x0b, 0x0d]),
          Buffer.from('\n'),
        ]),
      );
    }
    const source = Buffer.concat(rows);
    const prf = new KeyedPrf('bytes-secret');
    const compile = () => compileTableTransform('public.l', columns, rules, new Map(), prf, 'x.invalid');
    const text = source.toString('utf8');
    const expected = compile().rows(text, 0, text.length);
    expect(compile().bytes(source, 0, source.length).out.toString('utf8')).toBe(expected.out);
  });

  it('a transform used again after a block failed owes nothing from that block', () => {
    // Hashes owed when a short row throws must not be written into the next block's buffer.
    const rules: Record<string, ColumnRule> = { ref: parseRule('hash') };
    const prf = new KeyedPrf('bytes-secret');
    const compile = () =>
      compileTableTransform('public.r', ['id', 'ref', 'x'], rules, new Map(), prf, 'x.invalid');
    /** `rows` rows whose references never repeat (so the cache switches itself off and hashes are owed). */
    const block = (first: number, rows: number) => {
      let text = '';
      for (let row = first; row < first + rows; row++) text += `${row}\tREF-${row}\tx\n`;
      return Buffer.from(text);
    };
    const warm = (transform: ReturnType<typeof compile>) => {
      for (let at = 0; at < 70_000; at += 500) transform.bytes(block(at, 500), 0, block(at, 500).length);
    };
    const transform = compile();
    warm(transform);
    // One hash owed when it throws, its digits reserved at the start of the failed block's buffer.
    const broken = Buffer.from('9\tREF-odd\tx\n1\n');
    expect(() => transform.bytes(broken, 0, broken.length)).toThrow(/has fewer than 2 fields/);
    const reference = compile();
    warm(reference);
    // Longer rows: the place the failed block owed is mid-row in this one, and already written.
    const next = block(1_000_000, 1000);
    expect(transform.bytes(next, 0, next.length).out.toString('utf8')).toBe(
      reference.bytes(next, 0, next.length).out.toString('utf8'),
    );
  });

  it('a mask character outside ASCII or one COPY escapes takes the string path', () => {
    const prf = new KeyedPrf('bytes-secret');
    for (const char of ['•', '\t', '\\']) {
      const rule = parseRule({ mask: { keepLast: 2, char } });
      expect(compileRuleBytes(rule, { prf, type: 'text', domain: 'x' })).toBeUndefined();
    }
    // uuid keeps the string path too (its digits are reshaped), as do an e-mail domain outside
    // ASCII and a fake faker itself makes.
    expect(compileRuleBytes(parseRule('hash'), { prf, type: 'uuid', domain: 'x' })).toBeUndefined();
    expect(
      compileRuleBytes(parseRule('email'), { prf, type: 'text', domain: 'exämple.invalid' }),
    ).toBeUndefined();
    expect(
      compileRuleBytes(parseRule({ fake: 'color.human' }), { prf, type: 'text', domain: 'x' }),
    ).toBeUndefined();
  });

  it('a table long enough for the bytes path (past the leak sample and the cache trial) masks as the string path', () => {
    // 70,000 rows: the cache of hash switches itself off after 65,536 distinct values and the
    // leak sampler takes ever fewer rows, so most fields go through the bytes path; some values
    // are not plain (escapes, NULL, multi-byte) and take the string path in the same stream.
    // Birth dates and names repeat (their caches stay on), the rest barely do.
    const columns = ['id', 'card', 'iban', 'note', 'code', 'n', 'born', 'name'];
    const rules: Record<string, ColumnRule> = {
      card: parseRule({ mask: { keepLast: 4 } }),
      iban: parseRule('hash'),
      note: parseRule('null'),
      code: parseRule({ fixed: 'x\ty' }),
      n: parseRule('hash'),
      born: parseRule({ shift: '30d' }),
      name: parseRule({ fake: 'person.fullName' }),
    };
    const types = new Map([
      ['n', 'int4'],
      ['born', 'date'],
    ]);
    const odd = ['\\N', 'ünï', 'a\\tb', '\\\\', '€uro', ''];
    let text = '';
    for (let row = 0; row < 70_000; row++) {
      const card =
        row % 97 === 0 ? (odd[row % odd.length] as string) : `4111 1111 ${String(row).padStart(8, '0')}`;
      const iban = row % 89 === 0 ? (odd[(row + 1) % odd.length] as string) : `NL${row}ABNA${row * 7}`;
      const born = `19${50 + (row % 50)}-0${1 + (row % 9)}-1${row % 10}`;
      const name = row % 61 === 0 ? 'Zoë' : `Name ${row % 3000}`;
      text += `${row}\t${card}\t${iban}\tnote ${row}\tc\t${row % 83 === 0 ? '\\N' : row * 3}\t${born}\t${name}\n`;
    }
    const prf = new KeyedPrf('bytes-secret');
    const compile = () => compileTableTransform('public.p', columns, rules, types, prf, 'x.invalid');
    const expected = compile().rows(text, 0, text.length);
    const source = Buffer.from(text, 'utf8');
    // In blocks, as the stream cuts them: state (cache, sampler) carries from one to the next.
    const transform = compile();
    const parts: Buffer[] = [];
    let rows = 0;
    for (let start = 0; start < source.length; ) {
      const end = source.indexOf(10, Math.min(start + 65_536, source.length - 1)) + 1;
      const block = transform.bytes(source, start, end);
      parts.push(block.out);
      rows += block.rows;
      start = end;
    }
    expect(rows).toBe(70_000);
    expect(Buffer.concat(parts).toString('utf8')).toBe(expected.out);
  });

  it('a table with one unique column: claims owed to the end of a block re-key the same rows as the string path', () => {
    // Each table has a single unique column, so its bytes path claims at the end of each block.
    // E-mail addresses that differ only by case or spaces mask to one output (same-length
    // re-keys); past the cache's trial (65,536 lookups) the HMAC on the other column owes its
    // fields to the end of the block too, and writes them before the unique column's flush moves
    // what follows a re-keyed output: a fake user name's re-keys differ in length.
    const cases: { rules: Record<string, ColumnRule>; rows: number; value: (row: number) => string }[] = [
      { rules: { key: parseRule('email'), other: parseRule('hash') }, rows: 80_000, value: mailbox },
      {
        // Each value twice (were a unique key to hold one twice): every second row is re-keyed,
        // to a user name of another length.
        rules: { key: parseRule({ fake: 'internet.userName' }), other: parseRule('hash') },
        rows: 80_000,
        value: (row) => (row % 101 === 0 ? `Zoë ${row >> 1}` : `Name ${row >> 1}`),
      },
    ];
    const compile = (rules: Record<string, ColumnRule>) => uniqueKeyTransform(['id', 'key', 'other'], rules);
    for (const { rules, rows, value } of cases) {
      let text = '';
      for (let row = 0; row < rows; row++)
        text += `${row}\t${value(row)}\tN-${row % 7 === 0 ? '\\N' : row}\n`;
      const expected = compile(rules).rows(text, 0, text.length);
      const keys = expected.out
        .split('\n')
        .slice(0, -1)
        .map((line) => line.split('\t')[1]);
      expect(new Set(keys).size).toBe(rows);
      const source = Buffer.from(text, 'utf8');
      const transform = compile(rules);
      const parts: Buffer[] = [];
      for (let start = 0; start < source.length; ) {
        const end = source.indexOf(10, Math.min(start + 40_000, source.length - 1)) + 1;
        parts.push(transform.bytes(source, start, end).out);
        start = end;
      }
      expect(Buffer.concat(parts).toString('utf8')).toBe(expected.out);
    }
  });

  it('a block that fails midway drops what its unique column owed: the next block is whole', () => {
    const transform = uniqueKeyTransform(['id', 'key'], { key: parseRule('email') });
    const block = (from: number, to: number, tail = '') => {
      let text = '';
      for (let row = from; row < to; row++) text += `${row}\t${mailbox(row)}\n`;
      return Buffer.from(text + tail, 'utf8');
    };
    // Past the leak sample (50 rows), so the bytes path owes; re-keyed outputs are waiting when
    // the short row throws (the escaped rows settled the claims owed before them).
    const first = block(0, 200);
    transform.bytes(first, 0, first.length);
    const failing = block(200, 400, '400\n');
    expect(() => transform.bytes(failing, 0, failing.length)).toThrow(/fewer than 2 fields/);
    const next = block(1000, 1100);
    const lines = transform.bytes(next, 0, next.length).out.toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => line.split('\t')[0])).toEqual(
      Array.from({ length: 100 }, (_, index) => String(1000 + index)),
    );
    for (const line of lines) expect(line.split('\t')[1]).toMatch(/^u_[0-9a-f]{16}@x\.invalid$/);
  });

  it('unique columns: both paths share the outputs taken, and collisions are re-keyed as on the string path', () => {
    // E-mail addresses differing only by case or spaces mask to one output (so all but the first
    // are re-keyed), and a 6-digit hash collides about a hundred times in 70,000 rows.
    const columns = ['id', 'email', 'ref'];
    const rules: Record<string, ColumnRule> = {
      email: parseRule('email'),
      ref: parseRule({ hash: { length: 6 } }),
    };
    let text = '';
    for (let row = 0; row < 70_000; row++) {
      const base = `user${row >> 1}@corp.example`;
      const email = row % 2 === 0 ? base : row % 4 === 1 ? ` ${base.toUpperCase()}` : `${base}\\x`;
      text += `${row}\t${row % 101 === 0 ? `Ünï${row}` : email}\t${row % 103 === 0 ? '\\N' : `R-${row}`}\n`;
    }
    const prf = new KeyedPrf('bytes-secret');
    const compile = () =>
      compileTableTransform(
        'public.u',
        columns,
        rules,
        new Map(),
        prf,
        'x.invalid',
        new Set(['email', 'ref']),
      );
    const expected = compile().rows(text, 0, text.length);
    const got = compile().bytes(Buffer.from(text, 'utf8'), 0, Buffer.byteLength(text));
    expect(got.out.toString('utf8')).toBe(expected.out);
    const emails = expected.out
      .split('\n')
      .slice(0, -1)
      .map((line) => line.split('\t')[1]);
    expect(new Set(emails).size).toBe(70_000);
    const refs = expected.out
      .split('\n')
      .slice(0, -1)
      .map((line) => line.split('\t')[2])
      .filter((ref) => ref !== '\\N');
    expect(new Set(refs).size).toBe(refs.length);
  });
});
