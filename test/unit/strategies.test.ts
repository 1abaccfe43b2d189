import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCoverage } from '../../src/anonymize/pii-gate.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { formatBcDay, isoDay } from '../../src/anonymize/strategies/calendar-day.js';
import {
  type ColumnRuleInput,
  compileRule,
  parseRule,
  ruleMisfit,
} from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { parseConfig } from '../../src/config/load-config.js';

const prf = new KeyedPrf('secret');
const noRow = () => null;
const mask = (rule: ColumnRuleInput, type = 'text', secret = prf) =>
  compileRule(parseRule(rule), { prf: secret, type, domain: 'example.invalid' });

describe('strategies', () => {
  it('are deterministic for the same secret and differ for another', () => {
    for (const rule of ['email', 'hash', { fake: 'person.fullName' }] as ColumnRuleInput[]) {
      fc.assert(
        fc.property(fc.string({ minLength: 1 }), (value) => {
          expect(mask(rule)(value, noRow)).toBe(mask(rule)(value, noRow));
        }),
        { numRuns: 50 },
      );
    }
    expect(mask('email')('a@b.c', noRow)).not.toBe(
      mask('email', 'text', new KeyedPrf('other'))('a@b.c', noRow),
    );
  });

  it('scramble: same shape (digits, letters by case, the rest kept), never the original, deterministic', () => {
    const scramble = mask('scramble');
    const shape = (value: string) =>
      value.replace(/[0-9]/g, '9').replace(/[a-z]/g, 'a').replace(/[A-Z]/g, 'A');
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), (value) => {
        const out = scramble(value, noRow)!;
        expect(shape(out)).toBe(shape(value));
        expect(out.length).toBe(value.length);
        if (/[0-9A-Za-z]/.test(value)) expect(out).not.toBe(value);
        expect(scramble(value, noRow)).toBe(out);
      }),
      { numRuns: 2000 },
    );
    // every one-digit value moves (a plain keyed draw would keep one in ten)
    for (let digit = 0; digit <= 9; digit++) expect(scramble(String(digit), noRow)).not.toBe(String(digit));
    expect(scramble('WX3 6FW', noRow)).toMatch(/^[A-Z]{2}[0-9] [0-9][A-Z]{2}$/);
    expect(scramble('(206) 555-9857', noRow)).toMatch(/^\([0-9]{3}\) [0-9]{3}-[0-9]{4}$/);
    expect(scramble(null, noRow)).toBeNull();
    // a keyed draw, not a one-to-one map: refused where a unique index needs distinct outputs
    expect(ruleMisfit(parseRule('scramble'), { type: 'varchar', unique: true })).toMatch(/unique index/);
    expect(ruleMisfit(parseRule('scramble'), { type: 'varchar', maxLength: 10 })).toBeUndefined();
    // outputs spread: 2,000 five-digit codes give well over 1,900 distinct outputs
    const outputs = new Set(
      Array.from({ length: 2000 }, (_, index) => scramble(String(10000 + index), noRow)),
    );
    expect(outputs.size).toBeGreaterThan(1900);
  });

  it('email: valid, unique over 50k distinct inputs, case-insensitive like e-mail', () => {
    const email = mask('email');
    const out = new Set<string | null>();
    for (let i = 0; i < 50_000; i++) out.add(email(`person${i}@corp.example`, noRow));
    expect(out.size).toBe(50_000);
    expect(email('A@B.example', noRow)).toMatch(/^u_[0-9a-f]{16}@example\.invalid$/);
    expect(email('A@B.example', noRow)).toBe(email('a@b.example', noRow));
  });

  it('hash is shaped to the column type', () => {
    expect(mask('hash', 'int4')('12345', noRow)).toMatch(/^\d+$/);
    expect(Number(mask('hash', 'int2')('12345', noRow))).toBeLessThanOrEqual(32_767);
    expect(mask('hash', 'uuid')('x', noRow)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(mask({ hash: { length: 10 } })('x', noRow)).toHaveLength(10);
  });

  it('keeps NULL as NULL, except fixed', () => {
    for (const rule of [
      'email',
      'hash',
      { fake: 'person.fullName' },
      { mask: { keepFirst: 1, keepLast: 1, char: '*' } },
    ] as ColumnRuleInput[]) {
      expect(mask(rule)(null, noRow)).toBeNull();
    }
    expect(mask({ fixed: 'x' })(null, noRow)).toBe('x');
  });

  it('mask never keeps a whole short value', () => {
    const keep = mask({ mask: { keepFirst: 2, keepLast: 2, char: '*' } });
    expect(keep('abcdefgh', noRow)).toBe('ab****gh');
    expect(keep('abcd', noRow)).toBe('****');
    expect(keep('née', noRow)).toBe('***');
    expect(keep('😀bcdefg😀', noRow)).toBe('😀b****g😀'); // characters, not UTF-16 units
    // any string: the same as masking its characters one by one
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(4), fc.nat(4), (value, first, last) => {
        const chars = [...value];
        const expected =
          chars.length <= first + last
            ? '#'.repeat(chars.length)
            : chars.slice(0, first).join('') +
              '#'.repeat(chars.length - first - last) +
              chars.slice(chars.length - last).join('');
        expect(mask({ mask: { keepFirst: first, keepLast: last, char: '#' } })(value, noRow)).toBe(expected);
      }),
    );
  });

  it('shift moves dates 1..N days, keeping time and zone text', () => {
    const shift = mask({ shift: '10d' });
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        (date) => {
          const text = `${date.toISOString().slice(0, 10)} 13:45:00+01`;
          const out = shift(text, noRow) as string;
          const days = Math.abs(Date.parse(out.slice(0, 10)) - Date.parse(text.slice(0, 10))) / 86_400_000;
          expect(days).toBeGreaterThanOrEqual(1);
          expect(days).toBeLessThanOrEqual(10);
          expect(out.slice(10)).toBe(' 13:45:00+01');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('shift reads years below 100 as written and never leaves years 1–9999', () => {
    const shift = mask({ shift: '10d' });
    expect((shift('0050-06-15', noRow) as string).slice(0, 7)).toBe('0050-06');
    for (let day = 1; day <= 9; day++) {
      const out = shift(`0001-01-0${day}`, noRow) as string;
      expect(out).toMatch(/^0001-01-\d\d$/);
      expect(out).not.toBe(`0001-01-0${day}`);
      expect(shift(`9999-12-2${day}`, noRow)).toMatch(/^9999-12-\d\d$/);
    }
    expect(shift('2024-02-29 00:00:00+00', noRow)).toMatch(/^2024-0[23]-\d\d 00:00:00\+00$/);
  });

  it('shift keeps a BC date BC, in BC years: 1 BC and 5 BC are leap years, and 1 BC runs into AD 1', () => {
    // The calendar, judged by its continuity with AD dates (PostgreSQL's proleptic Gregorian).
    expect(isoDay('0001-12-31 BC', true)! + 1).toBe(isoDay('0001-01-01'));
    expect(isoDay('0001-02-29 BC', true)).toBeDefined();
    expect(isoDay('0005-02-29 BC', true)).toBeDefined();
    expect(isoDay('0044-02-29 BC', true)).toBeUndefined();
    expect(isoDay('0000-01-01 BC', true)).toBeUndefined();
    expect(isoDay('0045-01-01 BC', true)! + 366).toBe(isoDay('0044-01-01 BC', true));
    const shift = mask({ shift: '400d' });
    const dates = fc.tuple(fc.integer({ min: 1, max: 4712 }), fc.integer({ min: 0, max: 364 }));
    fc.assert(
      fc.property(
        dates,
        fc.constantFrom(' BC', ' 12:00:00 BC', ' 23:59:59+00:53:28 BC'),
        ([year, offset], rest) => {
          const from = formatBcDay(isoDay(`${String(year).padStart(4, '0')}-01-01 BC`, true)! + offset)!;
          const out = shift(`${from}${rest}`, noRow) as string;
          expect(out.endsWith(rest)).toBe(true);
          const moved = isoDay(out, true);
          expect(moved).toBeDefined();
          const distance = Math.abs(moved! - isoDay(from, true)!);
          expect(distance).toBeGreaterThanOrEqual(1);
          expect(distance).toBeLessThanOrEqual(400);
        },
      ),
    );
    // Never into AD: 1 BC's last days go back instead.
    for (let day = 25; day <= 31; day++)
      expect(shift(`0001-12-${day} BC`, noRow)).toMatch(/^000[12]-\d\d-\d\d BC$/);
  });

  it('shift keeps the format of a text date or refuses; it never writes NULL for a value', () => {
    const shift = mask({ shift: '10d' }, 'text');
    expect(shift('2020-05-17T10:00:00Z', noRow)).toMatch(/^2020-05-\d\dT10:00:00Z$/);
    expect(shift('infinity', noRow)).toBe('infinity');
    expect(() => shift('17/05/2020', noRow)).toThrow(/YYYY-MM-DD/);
    expect(() => shift('', noRow)).toThrow(/YYYY-MM-DD/);
  });

  it('template and json use the row and paths', () => {
    const row = (column: string) => ({ id: '42' })[column] ?? null;
    expect(mask({ template: 'user_{id}@example.invalid' })('real@x.y', row)).toBe('user_42@example.invalid');
    const json = mask({ json: { '$.contact.phone': { fixed: 'x' }, '$.tags.*': 'hash' } });
    expect(
      JSON.parse(json('{"contact":{"phone":"+31","city":"A"},"tags":["a","b"]}', noRow) as string),
    ).toEqual({
      contact: { phone: 'x', city: 'A' },
      tags: [mask('hash')('a', noRow), mask('hash')('b', noRow)],
    });
    expect(json('not json', noRow)).toBeNull();
  });

  it('a table transform masks only ruled fields and round-trips the rest byte for byte', () => {
    const transform = compileTableTransform(
      'public.t',
      ['id', 'email', 'note'],
      { email: parseRule('email') },
      new Map(),
      prf,
      'example.invalid',
    );
    expect(transform.line('7\tA@b.c\ttab\\there\\nnewline')).toBe(
      `7\t${mask('email')('A@b.c', noRow)}\ttab\\there\\nnewline`,
    );
    expect(transform.line('8\t\\N\t\\N')).toBe('8\t\\N\t\\N');
    // the leak sample: the row found again by its unmasked fields, with the original that masking changed
    expect(transform.leakSample()).toEqual({
      keyColumns: ['id', 'note'],
      checkedColumns: ['email'],
      rows: [{ key: ['7', 'tab\there\nnewline'], originals: [['email', 'A@b.c']] }],
    });
    expect(() =>
      compileTableTransform('public.t', ['id'], { email: parseRule('email') }, new Map(), prf, 'x'),
    ).toThrow(/no column "email"/);
  });
});

describe('PII coverage gate', () => {
  const config = (tables: string, extra = '') =>
    parseConfig(
      `source: { local: { path: x } }\nworkDir: /w\ntarget: { url: 'postgres://x@h/db', allow: [h/db] }\nanonymize: { secret: s, tables: ${tables} ${extra} }\n`,
      {},
      '/',
    ).anonymize;
  const columns = [
    { table: 'public.users', column: 'id', type: 'int8' },
    { table: 'public.users', column: 'email', type: 'text' },
    { table: 'public.users', column: 'name', type: 'text' },
    { table: 'public.users', column: 'country', type: 'text' },
    { table: 'public.products', column: 'name', type: 'text' },
    { table: 'public.orders', column: 'shipping_address', type: 'text' },
    { table: 'public.orders', column: 'ip_address', type: 'inet' },
  ];

  it('finds likely PII without a rule, and not product names', () => {
    const findings = checkCoverage(config('{ users: { email: email } }'), columns);
    expect(findings.map((f) => f.column)).toEqual([
      'public.users.name',
      'public.orders.shipping_address',
      'public.orders.ip_address',
    ]);
    expect(findings[0]).toMatchObject({
      severity: 'error',
      message: expect.stringContaining('looks like a name'),
    });
  });

  it('accepts keep entries and truncated tables, and warns instead when told to', () => {
    const findings = checkCoverage(
      config(
        '{ users: { email: email, name: { fake: person.fullName } }, orders: truncate }',
        ', unknownPii: warn',
      ),
      columns,
    );
    expect(findings).toEqual([]);
    const warned = checkCoverage(
      config('{ users: { email: email } }', ', unknownPii: warn, keep: [public.users.name]'),
      columns,
    );
    expect(warned.map((f) => [f.column, f.severity])).toEqual([
      ['public.orders.shipping_address', 'warning'],
      ['public.orders.ip_address', 'warning'],
    ]);
  });

  it('names rules that do not match the backup', () => {
    expect(() => checkCoverage(config('{ clients: { email: email } }'), columns)).toThrow(
      /anonymize\.tables\.clients: the backup has no table public\.clients/,
    );
  });
});
