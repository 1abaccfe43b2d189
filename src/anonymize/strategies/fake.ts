// `fake` — a plausible value of a faker kind (person.fullName, location.city…), picked by a keyed
// hash of the original: deterministic, but not unique (two people may get the same fake name).
import { faker } from '@faker-js/faker/locale/en';
import { z } from 'zod';
import { fastFake, fastFakeBytes } from './fast-fake.js';
import { type BytesMasker, type Strategy, TEXT_TYPES } from './strategy.js';

/** Writes a fake value of the given faker kind. */
export const fakeStrategy: Strategy<'fake', string> = {
  name: 'fake',
  options: z.string().regex(/^[a-z]+\.[A-Za-z]+$/, 'expected a faker kind like person.fullName'),
  writes: 'text-like columns',
  accepts: (type) => TEXT_TYPES.has(type),
  leakCheckable: true,
  memoize: true,
  readsRow: () => false,
  misfit: (kind, column) =>
    column.unique
      ? `the column has a unique index and fake ${kind} can give two rows the same value`
      : undefined,
  compileBytes: (kind, ctx) => {
    const { prf } = ctx;
    const fast = fastFakeBytes(kind);
    if (!fast) return undefined;
    // The value is only hashed, as UTF-8: any field without an escape is its own bytes.
    const masker: BytesMasker = (source, start, end, sink) => fast(prf.wideOf(source, start, end), sink);
    masker.utf8 = true;
    return masker;
  },
  compile: (kind, ctx) => {
    const { prf } = ctx;
    const fast = fastFake(kind);
    if (fast) return (value) => (value === null ? null : fast(prf.wide(value)));
    const [namespace, method] = kind.split('.') as [string, string];
    const module = (faker as unknown as Record<string, Record<string, unknown>>)[namespace];
    const generate = module?.[method];
    if (typeof generate !== 'function') throw new Error(`faker has no ${kind}`);
    return (value) => {
      if (value === null) return null;
      faker.seed(prf.uint32(`${kind}\u0000${value}`));
      return String((generate as () => unknown).call(module));
    };
  },
};
