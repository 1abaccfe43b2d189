import { describe, expect, it } from 'vitest';
import { classifyValues, luhn } from '../../src/anonymize/value-detect.js';

const kind = (values: string[]) => classifyValues(values)?.kind.what;

describe('PII by sampled values', () => {
  it('recognises e-mail addresses, card numbers, IBANs, phone numbers and IP addresses', () => {
    expect(kind(['a@b.com', 'Jane.Doe+x@mail.example.org', 'x@y.nl'])).toBe('e-mail addresses');
    expect(kind(['4111 1111 1111 1111', '5500-0000-0000-0004', '340000000000009'])).toBe(
      'card numbers (Luhn-valid)',
    );
    expect(kind(['NL91ABNA0417164300', 'DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432'])).toBe(
      'IBANs',
    );
    expect(kind(['+31 6 12345678', '(555) 123-4567', '020-123 4567', '+442071838750'])).toBe('phone numbers');
    expect(kind(['10.0.0.1', '2001:db8::1', '192.168.1.0/24'])).toBe('IP addresses');
  });

  it('needs most of the sample to agree: one odd value does not flag a column, a few real ones do', () => {
    expect(kind(['free text', 'more text', 'a@b.com', 'other', 'words'])).toBeUndefined();
    expect(kind(['a@b.com', 'c@d.com', 'e@f.com', 'not an address'])).toBe('e-mail addresses');
    expect(kind(['a@b.com', 'c@d.com'])).toBeUndefined(); // too few to say
  });

  it('does not flag ordinary identifiers, codes, dates or numbers', () => {
    expect(kind(['12345678', '23456789', '34567890', '45678901'])).toBeUndefined();
    expect(kind(['SKU-1234', 'SKU-2345', 'SKU-3456'])).toBeUndefined();
    expect(kind(['2024-01-01', '2024-02-03', '2025-11-30'])).toBeUndefined();
    expect(
      kind([
        '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
      ]),
    ).toBeUndefined();
    expect(kind(['4111 1111 1111 1112', '5500-0000-0000-0005', '340000000000008'])).toBeUndefined(); // not Luhn-valid
    expect(kind(['NL91ABNA0417164301', 'DE89370400440532013001', 'GB82WEST12345698765433'])).toBeUndefined(); // bad check digits
  });

  it('luhn', () => {
    expect(luhn('79927398713')).toBe(true);
    expect(luhn('79927398710')).toBe(false);
  });
});
