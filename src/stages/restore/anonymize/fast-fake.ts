// Fast deterministic fakes for the common kinds: entries of faker's own locale data picked by
// indices from 16 keyed bytes, instead of reseeding faker per value (faker.seed() alone costs
// tens of microseconds). Other kinds fall back to faker itself.
import { faker } from '@faker-js/faker';

type Pick = (digest: Buffer) => string;

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

const at = (items: readonly string[], digest: Buffer, offset: number): string =>
  items[digest.readUInt32BE(offset) % items.length] as string;
const ascii = (text: string): string => text.normalize('NFKD').replace(/[^\w]/g, '').toLowerCase();

const FAST: Record<string, Pick> = {
  'person.firstName': (d) => at(FIRST, d, 0),
  'person.lastName': (d) => at(LAST, d, 4),
  'person.fullName': (d) => `${at(FIRST, d, 0)} ${at(LAST, d, 4)}`,
  'location.streetAddress': (d) =>
    `${1 + (d.readUInt16BE(8) % 9999)} ${at(LAST, d, 4)} ${at(STREET_SUFFIX, d, 12)}`,
  'location.city': (d) => at(CITY, d, 8),
  'company.name': (d) => `${at(LAST, d, 4)} ${at(LEGAL, d, 12)}`,
  'internet.userName': (d) => `${ascii(at(FIRST, d, 0))}.${ascii(at(LAST, d, 4))}${d.readUInt16BE(8) % 1000}`,
  'internet.username': (d) => `${ascii(at(FIRST, d, 0))}.${ascii(at(LAST, d, 4))}${d.readUInt16BE(8) % 1000}`,
  'phone.number': (d) => `+1 555 ${String(d.readUInt32BE(12) % 10_000_000).padStart(7, '0')}`,
};

/** A fast generator for `kind` when all the data it needs is in the locale, else undefined. */
export function fastFake(kind: string): Pick | undefined {
  if (FIRST.length === 0 || LAST.length === 0) return undefined;
  if (kind === 'location.streetAddress' && STREET_SUFFIX.length === 0) return undefined;
  if (kind === 'location.city' && CITY.length === 0) return undefined;
  if (kind === 'company.name' && LEGAL.length === 0) return undefined;
  return FAST[kind];
}
