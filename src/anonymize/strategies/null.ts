// `null` — the column becomes NULL.
import { z } from 'zod';
import type { Strategy } from './strategy.js';

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
  compileBytes: () => (_source, _start, _end, sink) => sink.field(null),
};
