// Fast deterministic fakes for the common kinds: entries of faker's own locale data picked by
// indices from four keyed 32-bit words, instead of reseeding faker per value (faker.seed() alone costs
// tens of microseconds). Other kinds fall back to faker itself.
import { faker } from '@faker-js/faker/locale/en';
import { encodeField } from '../../format/copy-text.js';
import { remainder } from '../prf/keyed-prf.js';
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
type Piece =
  | { list: readonly string[]; word: number }
  | { number: (words: Uint32Array) => number; pad?: number }
  | string;

const pick = (list: readonly string[], word: number): Piece => ({ list, word });

const KINDS: Record<string, readonly Piece[]> = {
  'person.firstName': [pick(FIRST, 0)],
  'person.lastName': [pick(LAST, 1)],
  'person.fullName': [pick(FIRST, 0), ' ', pick(LAST, 1)],
  'location.streetAddress': [
    { number: (d) => 1 + (half(d, 2) % 9999) },
    ' ',
    pick(LAST, 1),
    ' ',
    pick(STREET_SUFFIX, 3),
  ],
  'location.city': [pick(CITY, 2)],
  'company.name': [pick(LAST, 1), ' ', pick(LEGAL, 3)],
  'internet.userName': [pick(FIRST_ASCII, 0), '.', pick(LAST_ASCII, 1), { number: (d) => half(d, 2) % 1000 }],
  'internet.username': [pick(FIRST_ASCII, 0), '.', pick(LAST_ASCII, 1), { number: (d) => half(d, 2) % 1000 }],
  'phone.number': ['+1 555 ', { number: (d) => remainder(d[3] as number, 10_000_000), pad: 7 }],
};

/** A fast generator for `kind` when all the data it needs is in the locale, else undefined. */
export function fastFake(kind: string): Pick | undefined {
  const pieces = usable(kind);
  if (!pieces) return undefined;
  return (words) => {
    let out = '';
    for (const piece of pieces) {
      if (typeof piece === 'string') out += piece;
      else if ('list' in piece) out += piece.list[remainder(words[piece.word] as number, piece.list.length)];
      else out += String(piece.number(words)).padStart(piece.pad ?? 0, '0');
    }
    return out;
  };
}

/**
 * The same fake written as a COPY field into `sink`: every list entry and fixed text encoded once
 * (escapes and UTF-8) into one arena and copied from there, numbers written as digits — no string
 * is made.
 */
export function fastFakeBytes(kind: string): FakeBytes | undefined {
  // Built once a kind: a table compiled its own copy of every entry (~3,500 names), and the
  // building loop was hot enough for V8 to optimise it again at each table, on the core masking.
  if (!BYTES.has(kind)) BYTES.set(kind, buildFakeBytes(kind));
  return BYTES.get(kind);
}

type FakeBytes = (words: Uint32Array, sink: FieldSink) => void;
const BYTES = new Map<string, FakeBytes | undefined>();

function buildFakeBytes(kind: string): FakeBytes | undefined {
  const pieces = usable(kind);
  if (!pieces) return undefined;
  const texts: string[] = [];
  // Per piece: its kind, then for text the index of its entry in `texts`, for a list the index
  // of its first entry, its length and the word that picks; numbers keep their function.
  const plan = pieces.map((piece) => {
    if (typeof piece === 'string') return { kind: TEXT, first: texts.push(piece) - 1, count: 1, word: 0 };
    if ('list' in piece) {
      const first = texts.length;
      texts.push(...piece.list);
      return { kind: LIST, first, count: piece.list.length, word: piece.word };
    }
    return { kind: NUMBER, first: 0, count: piece.pad ?? 0, word: 0, number: piece.number };
  });
  const encoded = texts.map((text) => Buffer.from(encodeField(text), 'utf8'));
  const arena = Buffer.concat(encoded);
  const starts = new Int32Array(encoded.length + 1);
  for (let index = 0; index < encoded.length; index++)
    starts[index + 1] = (starts[index] as number) + (encoded[index] as Buffer).length;
  return (words, sink) => {
    for (const piece of plan) {
      if (piece.number) {
        writeNumber(piece.number(words), piece.count, sink);
        continue;
      }
      const entry =
        piece.kind === LIST ? piece.first + remainder(words[piece.word] as number, piece.count) : piece.first;
      sink.copy(arena, starts[entry] as number, starts[entry + 1] as number);
    }
  };
}

const TEXT = 0;
const LIST = 1;
const NUMBER = 2;

/** A non-negative integer's decimal digits, zero-padded to `pad`, into `sink` (String(n).padStart). */
function writeNumber(value: number, pad: number, sink: FieldSink): void {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  const width = Math.max(digits, pad);
  const target = sink.reserve(width);
  let at = sink.length + width;
  let rest = value;
  for (let index = 0; index < width; index++) {
    target[--at] = 48 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
  sink.length += width;
}

/** The kind's pieces when every list it picks from has entries in the locale. */
function usable(kind: string): readonly Piece[] | undefined {
  const pieces = KINDS[kind];
  if (!pieces) return undefined;
  for (const piece of pieces)
    if (typeof piece === 'object' && 'list' in piece && piece.list.length === 0) return undefined;
  return pieces;
}
