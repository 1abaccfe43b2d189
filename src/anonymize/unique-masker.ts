// Masked values stay unique where the column is: a deterministic masker on a column with a unique
// key may still map two originals onto one output (the e-mail masker lowercases, so `Ann@x` and
// `ann@x` meet; a short hash can collide). The second original is re-keyed — masked again with a
// counter appended — until its output is free. Which of the two keeps the plain mapping (and so
// joins with other tables) is the first one the stream meets.
import type { Masker } from './strategies/strategy.js';

/** A collision re-keying could not resolve: the column cannot be kept unique by its rule. */
export class MaskCollisionError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
  ) {
    super(
      `masking ${table}.${column} gave different values the same output and re-keying did not separate them: its unique index would fail`,
    );
    this.name = 'MaskCollisionError';
  }
}

const ATTEMPTS = 16;

/** Wraps `mask` so that distinct originals never share an output (within this stream). */
export function uniqueMasker(mask: Masker, table: string, column: string): Masker {
  const owners = new Map<string, string>();
  return (value, row) => {
    let out = mask(value, row);
    if (value === null || out === null) return out;
    for (let attempt = 1; ; attempt++) {
      const owner = owners.get(out);
      if (owner === undefined) {
        owners.set(out, value);
        return out;
      }
      if (owner === value) return out;
      if (attempt > ATTEMPTS) throw new MaskCollisionError(table, column);
      out = mask(`${value}\u0000${attempt}`, row);
      if (out === null) return out;
    }
  };
}
