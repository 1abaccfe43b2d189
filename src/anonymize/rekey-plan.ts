// Which rows of a unique masked column to re-key, and to what, once the stream has written every
// row's plain output and its key to a ledger (output-ledger.ts): exactly the rows, and exactly
// the outputs, that uniqueMaskers would have given in the stream — a row is re-keyed when an
// earlier row's output (plain or re-keyed) has its key, and takes the first of its originals'
// re-keyed outputs (`value \0 1`, `\0 2`, …) that no earlier row has. Only the rows involved are
// read again and held: the ones that clash, and any row whose plain output an earlier re-keyed
// one took (so it is re-keyed in turn, as in the stream).
import type { Masker, RowAccess } from './strategies/registry.js';
import { MaskCollisionError, UNIQUE_ATTEMPTS } from './unique-masker.js';

export interface RekeyInput {
  table: string;
  column: string;
  index: {
    /** Rows (ascending) whose key an earlier row has. */
    clashes(): number[];
    /** The first row with each key ((lo, hi) pairs); Infinity where none has it. */
    firstRows(keys: Uint32Array): Float64Array;
  };
  /** The originals of these rows (ascending), read again from the backup. */
  originals(rows: readonly number[]): Promise<Map<number, { value: string; row: RowAccess }>>;
  /** The column's rule. */
  mask: Masker;
  /** The key an output is claimed by (unique-masker.ts's outputKey). */
  keyOf(out: string): [number, number];
}

/** Row → its re-keyed output (NULL where the rule gave one), for the rows the stream would have re-keyed. */
export async function planRekeys(input: RekeyInput): Promise<Map<number, string | null>> {
  const involved = new Set(input.index.clashes());
  if (involved.size === 0) return new Map();
  const originals = new Map<number, { value: string; row: RowAccess }>();
  /** Per row: its plain output, then its re-keyed ones (as far as computed). */
  const outputs = new Map<number, (string | null)[]>();
  /** Keys (as text) to the first row whose plain output has them. */
  const firstRow = new Map<string, number>();
  const keyText = (out: string) => {
    const [lo, hi] = input.keyOf(out);
    return `${hi >>> 0}:${lo === 0 && hi === 0 ? 1 : lo >>> 0}`;
  };
  let depth = 1;
  for (;;) {
    const missing = [...involved].filter((row) => !originals.has(row)).sort((a, b) => a - b);
    if (missing.length > 0) {
      const read = await input.originals(missing);
      for (const row of missing) {
        const original = read.get(row);
        if (!original)
          throw new Error(`row ${row} of ${input.table} was not found when the backup was read again`);
        originals.set(row, original);
      }
    }
    // The outputs each involved row may take, and the first rows of their keys.
    const asked = new Map<string, [number, number]>();
    for (const row of involved) {
      const { value, row: access } = originals.get(row) as { value: string; row: RowAccess };
      const list = outputs.get(row) ?? [input.mask(value, access)];
      while (list.length <= depth) list.push(input.mask(`${value}\u0000${list.length}`, access));
      outputs.set(row, list);
      for (const out of list) {
        if (out === null) continue;
        const text = keyText(out);
        if (!firstRow.has(text) && !asked.has(text)) asked.set(text, input.keyOf(out));
      }
    }
    if (asked.size > 0) {
      const keys = new Uint32Array(asked.size * 2);
      [...asked.values()].forEach(([lo, hi], at) => {
        keys[at * 2] = lo;
        keys[at * 2 + 1] = hi;
      });
      const found = input.index.firstRows(keys);
      [...asked.keys()].forEach((text, at) => {
        firstRow.set(text, found[at] as number);
      });
    }
    const outcome = replay(
      input,
      [...involved].sort((a, b) => a - b),
      outputs,
      firstRow,
      keyText,
    );
    if (outcome === 'deeper') {
      depth = UNIQUE_ATTEMPTS;
      continue;
    }
    if (outcome.more.length === 0) return outcome.rekeyed;
    for (const row of outcome.more) involved.add(row);
  }
}

/**
 * The stream's claims replayed over the involved rows, in order; 'deeper' when a row needs more
 * re-keyed outputs than were computed, `more` the rows found to be involved after all.
 */
function replay(
  input: RekeyInput,
  rows: readonly number[],
  outputs: ReadonlyMap<number, (string | null)[]>,
  firstRow: ReadonlyMap<string, number>,
  keyText: (out: string) => string,
): 'deeper' | { rekeyed: Map<number, string | null>; more: number[] } {
  const rekeyed = new Map<number, string | null>();
  /** Keys taken by re-keyed outputs so far (all of earlier rows: rows go in order). */
  const taken = new Set<string>();
  const more: number[] = [];
  const involved = new Set(rows);
  const takenBefore = (text: string, row: number) =>
    taken.has(text) || (firstRow.get(text) ?? Number.POSITIVE_INFINITY) < row;
  for (const row of rows) {
    const list = outputs.get(row) as (string | null)[];
    const plain = list[0];
    if (plain === null || plain === undefined || !takenBefore(keyText(plain), row)) continue;
    let settled = false;
    for (let attempt = 1; attempt <= UNIQUE_ATTEMPTS; attempt++) {
      if (attempt >= list.length) return 'deeper';
      const out = list[attempt] as string | null;
      if (out === null) {
        rekeyed.set(row, null);
        settled = true;
        break;
      }
      const text = keyText(out);
      if (takenBefore(text, row)) continue;
      taken.add(text);
      rekeyed.set(row, out);
      settled = true;
      // A later row whose plain output this one now takes is re-keyed in its turn.
      const later = firstRow.get(text) ?? Number.POSITIVE_INFINITY;
      if (later !== Number.POSITIVE_INFINITY && !involved.has(later)) more.push(later);
      break;
    }
    if (!settled) throw new MaskCollisionError(input.table, input.column);
  }
  return { rekeyed, more };
}
