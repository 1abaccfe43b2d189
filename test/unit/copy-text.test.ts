import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { decodeField, encodeField, parseCopyHeader } from '../../src/format/copy-text.js';

describe('COPY text format', () => {
  it('round-trips arbitrary values, NULLs, escapes and unicode', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'binary' }), { nil: null }), (value) => {
        const encoded = encodeField(value);
        expect(encoded).not.toMatch(/[\t\n\r]/);
        expect(decodeField(encoded)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes what pg_dump writes: octal, hex and named escapes', () => {
    expect(decodeField('a\\tb\\nc\\\\d')).toBe('a\tb\nc\\d');
    expect(decodeField('\\303\\251t\\xc3\\xa9')).toBe('été');
    expect(decodeField('\\N')).toBeNull();
    expect(decodeField('\\\\N')).toBe('\\N');
    expect(decodeField('{"a":"x\\\\ty"}')).toBe('{"a":"x\\ty"}');
    expect(decodeField('{1,2,NULL}')).toBe('{1,2,NULL}');
  });

  it('reads COPY headers with quoted identifiers', () => {
    expect(parseCopyHeader('COPY public.users (id, email, "Full ""Name""", "a,b") FROM stdin;')).toEqual({
      table: 'public.users',
      columns: ['id', 'email', 'Full "Name"', 'a,b'],
    });
    expect(parseCopyHeader('SET client_encoding = 1;')).toBeUndefined();
  });
});

describe('KeyedPrf', () => {
  it('is HMAC-SHA256, for short and long keys', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 100 }), fc.string(), (key, message) => {
        expect(new KeyedPrf(key).hex(message)).toBe(createHmac('sha256', key).update(message).digest('hex'));
      }),
      { numRuns: 300 },
    );
  });
});
