import { describe, expect, it } from 'vitest';
import { classifyValues, luhn, suggestionFor } from '../../src/anonymize/value-detect.js';

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

describe('PII inside values', () => {
  it('finds e-mail addresses in JSON leaves (arrays included) and names the path and the rule', () => {
    const found = classifyValues([
      '{"id": 1, "contact": {"email": "ann@real.example", "tags": ["a"]}}',
      '{"id": 2, "contact": {"email": "bob@real.example"}}',
      '{"id": 3, "contact": {"email": "cy@real.example"}}',
    ]);
    expect(found).toMatchObject({ kind: { what: 'e-mail addresses' }, in: 'json', path: '$.contact.email' });
    expect(suggestionFor(found!)).toBe("{ json: { '$.contact.email': email } }");
    expect(
      classifyValues([
        '{"phones": ["+31 6 12345678"]}',
        '{"phones": ["+44 20 7183 8750"]}',
        '{"phones": ["+1 555 123 4567"]}',
      ]),
    ).toMatchObject({ kind: { what: 'phone numbers' }, path: '$.phones.*' });
  });

  it('finds them in array elements and suggests the element rule', () => {
    const found = classifyValues([
      '{ann@real.example,bob@real.example}',
      '{cy@real.example}',
      '{"d@real.example",NULL}',
    ]);
    expect(found).toMatchObject({ kind: { what: 'e-mail addresses' }, in: 'array' });
    expect(suggestionFor(found!)).toBe('{ array: { each: email } }');
  });

  it('finds an address or an international number inside a sentence, not ordinary prose', () => {
    expect(
      classifyValues([
        'Customer called, wrote to ann@real.example afterwards',
        'Send the invoice to bob.smith@real.example please',
        'asked to be reached at cy@real.example',
      ]),
    ).toMatchObject({ kind: { what: 'e-mail addresses' }, in: 'text' });
    expect(
      classifyValues([
        'Call back on +31 6 1234 5678 after 5',
        'mobile: +44 20 7183 8750',
        'reached him at +1 555 123 4567',
      ]),
    ).toMatchObject({ kind: { what: 'phone numbers' }, in: 'text' });
    expect(
      classifyValues([
        'Delivered on 2024-01-03 at 10:30',
        'Order 12345 shipped in 2 boxes',
        'see ticket #4411 (priority 2)',
      ]),
    ).toBeUndefined();
  });
});
