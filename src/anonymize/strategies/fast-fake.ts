// Fast deterministic fakes for the common kinds: entries of faker's own locale data picked by
// indices from four keyed 32-bit words, instead of reseeding faker per value (faker.seed() alone costs
// tens of microseconds). Other kinds fall back to faker itself.
import { faker } from '@faker-js/faker';
import { encodeField } from '../../format/copy-text.js';
import type { FieldSink } from './strategy.js';

type Pick = (words: Uint32Array) => string;

const definitions = faker.definitions as unknown as Record<string, Record<string, unknown>>;

function list(group: string, key: string): string[] {
  const value = definitions[group]?.[key];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (value && typeof value === 'object') {
    const generic = (value as Record<string, unknown>).generic;
    if (Array.isArray(generic)) return generic.filter((item): item is string => typeof item === 'string');
  }
  return [];
}

const FIRST = list('person', 'first_name');
const LAST = list('person', 'last_name');
const STREET_SUFFIX = list('location', 'street_suffix');
const CITY = list('location', 'city_name');
const LEGAL = list('company', 'legal_entity_type');

/** The top 16 bits of a word. */
const half = (words: Uint32Array, word: number): number => (words[word] as number) >>> 16;
const ascii = (text: string): string => text.normalize('NFKD').replace(/[^\w]/g, '').toLowerCase();
const FIRST_ASCII = FIRST.map(ascii);
const LAST_ASCII = LAST.map(ascii);

/**
 * One piece of a fake: an entry of a list picked by one of the four words, a number made from
 * them, or fixed text. A kind is its pieces in order; the string and the bytes are both made from
 * them, so the two cannot differ.
 */
type Piece = { list: readonly string[]; word: number } | { number: (words: Uint32Array) => string } | string;

const pick = (list: readonly string[], word: number): Piece => ({ list, word });

const KINDS: Record<string, readonly Piece[]> = {
  'person.firstName': [pick(FIRST, 0)],
  'person.lastName': [pick(LAST, 1)],
  'person.fullName': [pick(FIRST, 0), ' ', pick(LAST, 1)],
  'location.streetAddress': [
    { number: (d) => String(1 + (half(d, 2) % 9999)) },
    ' ',
    pick(LAST, 1),
    ' ',
    pick(STREET_SUFFIX, 3),
  ],
  'location.city': [pick(CITY, 2)],
  'company.name': [pick(LAST, 1), ' ', pick(LEGAL, 3)],
  'internet.userName': [
    pick(FIRST_ASCII, 0),
    '.',
    pick(LAST_ASCII, 1),
    { number: (d) => String(half(d, 2) % 1000) },
  ],
  'internet.username': [
    pick(FIRST_ASCII, 0),
    '.',
    pick(LAST_ASCII, 1),
    { number: (d) => String(half(d, 2) % 1000) },
  ],
  'phone.number': ['+1 555 ', { number: (d) => String((d[3] as number) % 10_000_000).padStart(7, '0') }],
};

/** A fast generator for `kind` when all the data it needs is in the locale, else undefined. */
export function fastFake(kind: string): Pick | undefined {
  const pieces = usable(kind);
  if (!pieces) return undefined;
  return (words) => {
    let out = '';
    for (const piece of pieces) {
      if (typeof piece === 'string') out += piece;
      else if ('list' in piece) out += piece.list[(words[piece.word] as number) % piece.list.length];
      else out += piece.number(words);
    }
    return out;
  };
}

/**
 * The same fake written as a COPY field into `sink`: each list entry and fixed text encoded once
 * (escapes and UTF-8) and copied, so no string is made (numbers aside).
 */
export function fastFakeBytes(kind: string): ((words: Uint32Array, sink: FieldSink) => void) | undefined {
  const pieces = usable(kind);
  if (!pieces) return undefined;
  const encode = (text: string) => Buffer.from(encodeField(text), 'utf8');
  const writers = pieces.map((piece): ((words: Uint32Array, sink: FieldSink) => void) => {
    if (typeof piece === 'string') {
      const bytes = encode(piece);
      return (_words, sink) => sink.copy(bytes, 0, bytes.length);
    }
    if ('list' in piece) {
      const entries = piece.list.map(encode);
      const { word } = piece;
      return (words, sink) => {
        const bytes = entries[(words[word] as number) % entries.length] as Buffer;
        sink.copy(bytes, 0, bytes.length);
      };
    }
    return (words, sink) => sink.field(piece.number(words));
  });
  return (words, sink) => {
    for (const write of writers) write(words, sink);
  };
}

/** The kind's pieces when every list it picks from has entries in the locale. */
function usable(kind: string): readonly Piece[] | undefined {
  const pieces = KINDS[kind];
  if (!pieces) return undefined;
  for (const piece of pieces)
    if (typeof piece === 'object' && 'list' in piece && piece.list.length === 0) return undefined;
  return pieces;
}
