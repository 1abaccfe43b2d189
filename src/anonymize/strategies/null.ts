// `null` — the column becomes NULL.
import { z } from 'zod';
import type { BytesMasker, Strategy } from './strategy.js';

/** Writes NULL whatever the value was. */
export const nullStrategy: Strategy<'null', true> = {
  name: 'null',
  options: z.literal(true),
  bare: true,
  writes: 'NULL',
  accepts: () => true,
  leakCheckable: false,
  readsRow: () => false,
  misfit: (_options, column) =>
    column.notNull ? 'the column is NOT NULL and `null` writes NULL into every row' : undefined,
  compile: () => () => null,
  compileBytes: () => {
    const masker: BytesMasker = (_source, _start, _end, sink) => sink.field(null);
    masker.utf8 = true; // the value is not read at all
    return masker;
  },
};
