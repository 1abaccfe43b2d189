// PII by content: a sample of a column's values is checked against shapes that are hard to hit
// by accident — e-mail addresses, phone numbers written as phone numbers, Luhn-valid card
// numbers, mod-97-valid IBANs, IP addresses. A column is flagged when most of its sampled
// values have the same shape, so one odd value does not stop a run.
import { isIP } from 'node:net';

export interface ValueKind {
  what: string;
  suggest: string;
  test: (value: string) => boolean;
}

const EMAIL = /^[^\s@"<>]+@[^\s@"<>]+\.[a-z]{2,}$/i;
// +31 6 12345678, (555) 123-4567, 020-123 4567: digits in groups, or a leading +
const PHONE = /^\+?\(?\d{1,4}\)?(?:[\s.-]\(?\d{1,5}\)?){1,5}$|^\+\d{7,15}$/;
// …but not a date, which has the same digit groups
const DATE = /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$/;

export const VALUE_KINDS: ValueKind[] = [
  { what: 'e-mail addresses', suggest: 'email', test: (v) => v.length <= 320 && EMAIL.test(v) },
  {
    what: 'card numbers (Luhn-valid)',
    suggest: '{ mask: { keepLast: 4 } }',
    test: (v) => {
      if (!/^\d[\d -]{11,22}\d$/.test(v)) return false;
      const digits = v.replace(/[ -]/g, '');
      return digits.length >= 13 && digits.length <= 19 && luhn(digits);
    },
  },
  {
    what: 'IBANs',
    suggest: 'hash',
    test: (v) => {
      const compact = v.replace(/ /g, '').toUpperCase();
      return /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact) && ibanValid(compact);
    },
  },
  {
    what: 'phone numbers',
    suggest: '{ mask: { keepLast: 2 } }',
    test: (v) => {
      if (!PHONE.test(v) || DATE.test(v)) return false;
      const digits = v.replace(/\D/g, '').length;
      return digits >= 7 && digits <= 15;
    },
  },
  { what: 'IP addresses', suggest: "'null'", test: (v) => isIP(v.replace(/\/\d+$/, '')) !== 0 },
];

/** Column types worth sampling: text-like ones (a number column does not hold an e-mail). */
export function sampledType(type: string): boolean {
  return /^(text|varchar|bpchar|char|citext|name|inet|cidr)$/.test(type);
}

/** The kind most sampled values share, when at least half of them (and at least 3) do. */
export function classifyValues(values: readonly string[]): { kind: ValueKind; matches: number } | undefined {
  const present = values.filter((value) => value.trim() !== '');
  if (present.length < 3) return undefined;
  for (const kind of VALUE_KINDS) {
    const matches = present.filter((value) => kind.test(value.trim())).length;
    if (matches >= 3 && matches * 2 >= present.length) return { kind, matches };
  }
  return undefined;
}

export function luhn(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function ibanValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = /\d/.test(char) ? char : String(char.charCodeAt(0) - 55);
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}
