// Fast deterministic fakes for the common kinds: entries of faker's own locale data picked by
// indices from four keyed 32-bit words, instead of reseeding faker per value (faker.seed() alone costs
// tens of microseconds). Other kinds fall back to faker itself.
import { faker } from '@faker-js/faker';

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

const at = (items: readonly string[], words: Uint32Array, word: number): string =>
  items[(words[word] as number) % items.length] as string;
/** The top 16 bits of a word. */
const half = (words: Uint32Array, word: number): number => (words[word] as number) >>> 16;
const ascii = (text: string): string => text.normalize('NFKD').replace(/[^\w]/g, '').toLowerCase();

const FAST: Record<string, Pick> = {
  'person.firstName': (d) => at(FIRST, d, 0),
  'person.lastName': (d) => at(LAST, d, 1),
  'person.fullName': (d) => `${at(FIRST, d, 0)} ${at(LAST, d, 1)}`,
  'location.streetAddress': (d) => `${1 + (half(d, 2) % 9999)} ${at(LAST, d, 1)} ${at(STREET_SUFFIX, d, 3)}`,
  'location.city': (d) => at(CITY, d, 2),
  'company.name': (d) => `${at(LAST, d, 1)} ${at(LEGAL, d, 3)}`,
  'internet.userName': (d) => `${ascii(at(FIRST, d, 0))}.${ascii(at(LAST, d, 1))}${half(d, 2) % 1000}`,
  'internet.username': (d) => `${ascii(at(FIRST, d, 0))}.${ascii(at(LAST, d, 1))}${half(d, 2) % 1000}`,
  'phone.number': (d) => `+1 555 ${String((d[3] as number) % 10_000_000).padStart(7, '0')}`,
};

/** A fast generator for `kind` when all the data it needs is in the locale, else undefined. */
export function fastFake(kind: string): Pick | undefined {
  if (FIRST.length === 0 || LAST.length === 0) return undefined;
  if (kind === 'location.streetAddress' && STREET_SUFFIX.length === 0) return undefined;
  if (kind === 'location.city' && CITY.length === 0) return undefined;
  if (kind === 'company.name' && LEGAL.length === 0) return undefined;
  return FAST[kind];
}
