// PII by content: a sample of a column's values is checked against shapes that are hard to hit
// by accident — e-mail addresses, phone numbers written as phone numbers, Luhn-valid card
// numbers, mod-97-valid IBANs, IP addresses. A column is flagged when most of its sampled
// values have the same shape, so one odd value does not stop a run. Values are looked into:
// every string leaf of a JSON document, every element of an array, and free text (an e-mail
// address or an international phone number inside a sentence).
import { isIP } from 'node:net';
import { arrayLeaves, parsePgArray } from './strategies/pg-array.js';

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
  // Before phone numbers: 203.0.113.7 is digit groups too.
  { what: 'IP addresses', suggest: 'ip', test: (v) => isIP(v.replace(/\/\d+$/, '')) !== 0 },
  {
    what: 'phone numbers',
    suggest: '{ mask: { keepLast: 2 } }',
    test: (v) => {
      if (!PHONE.test(v) || DATE.test(v) || isIP(v) !== 0) return false;
      const digits = v.replace(/\D/g, '').length;
      return digits >= 7 && digits <= 15;
    },
  },
];

// Inside free text: an address, or a phone number written internationally (+31 6 1234 5678).
const EMAIL_IN_TEXT = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[a-z]{2,}\b/i;
const PHONE_IN_TEXT = /(?:^|[\s(:])\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,5}){2,4}\b/;

/** Column types worth sampling: text-like ones and their arrays, and JSON (not numbers, dates). */
export function sampledType(type: string): boolean {
  return /^_?(text|varchar|bpchar|char|citext|name|inet|cidr)$|^jsonb?$|^tsvector$/.test(type);
}

/** Where in the values the kind was found. */
export type FoundIn = 'value' | 'json' | 'array' | 'text';

export interface ValueClass {
  kind: ValueKind;
  matches: number;
  in: FoundIn;
  /** For JSON: the path of the first leaf that matched (`$.contact.email`, `$.phones[*]`). */
  path?: string;
}

/** The kind most sampled values share, when at least half of them (and at least 3) do. */
export function classifyValues(values: readonly string[]): ValueClass | undefined {
  const present = values.filter((value) => value.trim() !== '').map(readValue);
  if (present.length < 3) return undefined;
  for (const kind of VALUE_KINDS) {
    let matches = 0;
    let first: { in: FoundIn; path?: string } | undefined;
    for (const value of present) {
      const hit = value.leaves.find((leaf) => kind.test(leaf.text.trim()));
      const inText = hit ? undefined : value.leaves.find((leaf) => inFreeText(kind, leaf.text));
      const found = hit ?? inText;
      if (!found) continue;
      matches++;
      first ??= {
        in: inText ? 'text' : value.in,
        ...(found.path !== undefined && { path: found.path }),
      };
    }
    if (first && matches >= 3 && matches * 2 >= present.length) return { kind, matches, ...first };
  }
  return undefined;
}

/** The rule to suggest for a column where values of `found.kind` were found. */
export function suggestionFor(found: ValueClass): string {
  switch (found.in) {
    case 'json':
      return `{ json: { '${found.path ?? '$'}': ${found.kind.suggest} } }`;
    case 'array':
      return `{ array: { each: ${found.kind.suggest} } }`;
    case 'text':
      return "'null'";
    default:
      return found.kind.suggest;
  }
}

interface Leaf {
  text: string;
  path?: string;
}

/** A value's strings: the leaves of a JSON document or an array, or the value itself. */
function readValue(value: string): { in: FoundIn; leaves: Leaf[] } {
  const trimmed = value.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const leaves: Leaf[] = [];
      jsonLeaves(JSON.parse(trimmed), '$', leaves);
      return { in: 'json', leaves };
    } catch {
      // not JSON: perhaps an array
    }
    if (trimmed.startsWith('{') || /^\[[\d:-]+\]=/.test(trimmed)) {
      try {
        return { in: 'array', leaves: arrayLeaves(parsePgArray(trimmed).items).map((text) => ({ text })) };
      } catch {
        // neither: plain text
      }
    }
  }
  return { in: 'value', leaves: [{ text: value }] };
}

function jsonLeaves(node: unknown, path: string, into: Leaf[]): void {
  if (typeof node === 'string') into.push({ text: node, path });
  else if (Array.isArray(node)) for (const item of node) jsonLeaves(item, `${path}.*`, into);
  else if (node !== null && typeof node === 'object')
    for (const [key, value] of Object.entries(node)) jsonLeaves(value, `${path}.${key}`, into);
}

function inFreeText(kind: ValueKind, text: string): boolean {
  if (!/\s/.test(text.trim())) return false; // one word: judged whole above
  if (kind.what === 'e-mail addresses') return EMAIL_IN_TEXT.test(text);
  if (kind.what === 'phone numbers') return PHONE_IN_TEXT.test(text);
  return false;
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
