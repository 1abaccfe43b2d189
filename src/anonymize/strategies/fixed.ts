// `fixed` — one value for every row (NULL stays NULL only when the value is null).
import { z } from 'zod';
import type { BytesMasker, Strategy } from './strategy.js';

type Fixed = string | number | boolean | null;

/** Writes the same value into every row, NULL rows included. */
export const fixedStrategy: Strategy<'fixed', Fixed> = {
  name: 'fixed',
  options: z.union([z.string(), z.number(), z.boolean(), z.null()]),
  writes: 'one constant value',
  accepts: () => true,
  leakCheckable: false,
  readsRow: () => false,
  misfit: (value, column) => {
    if (value === null && column.notNull) return 'the column is NOT NULL and `fixed: null` writes NULL';
    if (column.unique)
      return 'the column has a unique index and `fixed` writes the same value into every row';
    if (typeof value === 'string' && column.maxLength !== undefined && [...value].length > column.maxLength)
      return `the fixed value has ${[...value].length} characters and the column takes ${column.maxLength}`;
    return undefined;
  },
  compile: (value) => {
    const fixed = value === null ? null : String(value);
    return () => fixed;
  },
  compileBytes: (value) => {
    const fixed = value === null ? null : String(value);
    const masker: BytesMasker = (_source, _start, _end, sink) => sink.field(fixed);
    masker.utf8 = true; // the value is not read at all
    return masker;
  },
};
