// Which rows the leak check looks at: a reservoir sample (Algorithm R, with a fixed-seed xorshift
// so a run is reproducible) of a table's rows as they stream by, each kept with the values that
// identify the row afterwards (its unmasked fields) and, per leak-checkable masked column, the
// original — only where masking changes it: a masked value that equals its original by
// construction (an empty string, a fake that happens to pick the same name) is no leak.
import { remainder } from './prf/keyed-prf.js';

/** One sampled row: its unmasked fields (aligned with `keyColumns`) and the originals to look for. */
export interface LeakSampleRow {
  key: (string | null)[];
  /** [column, original] for each leak-checkable column whose masked value differs from the original. */
  originals: [string, string][];
}

/** A table's sample for the leak check (structured-clone safe: it crosses from the worker thread). */
export interface TableLeakSample {
  /** The columns no rule touches, in COPY order: they still identify the row after the restore. */
  keyColumns: string[];
  /** The leak-checkable masked columns. */
  checkedColumns: string[];
  rows: LeakSampleRow[];
  /**
   * Where the rows were loaded when not into the table itself (`schema.table`): the partitioned
   * root a partition's rows went through, routed by a masked partition key to any partition.
   */
  loadedInto?: string;
}

/** Sampled rows per `schema.table`. */
export type LeakSamples = Map<string, TableLeakSample>;

/** How many rows per table the leak check looks at. */
export const LEAK_SAMPLE_ROWS = 50;

/** Picks rows to sample while a table streams; `slot` is called once per row, in order. */
export class LeakSampler {
  private seen = 0;
  private state = 0x2545f491;
  private readonly slots: (LeakSampleRow | undefined)[] = [];

  constructor(
    readonly keyColumns: string[],
    readonly checkedColumns: string[],
    private readonly size = LEAK_SAMPLE_ROWS,
  ) {}

  /** The reservoir slot the current row goes into, or -1 when it is not sampled. */
  slot(): number {
    const n = ++this.seen;
    if (this.checkedColumns.length === 0) return -1;
    if (n <= this.size) return n - 1;
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    const pick = remainder(this.state, n);
    return pick < this.size ? pick : -1;
  }

  /** Stores a sampled row (a row with nothing to check frees its slot). */
  put(slot: number, key: (string | null)[], originals: [string, string][]): void {
    this.slots[slot] = originals.length > 0 ? { key, originals } : undefined;
  }

  /** The sample so far. */
  sample(): TableLeakSample {
    return {
      keyColumns: this.keyColumns,
      checkedColumns: this.checkedColumns,
      rows: this.slots.filter((row): row is LeakSampleRow => row !== undefined),
    };
  }
}

/** Whether masking `original` into `masked` removed something worth checking for later. */
export function worthChecking(original: string | null, masked: string | null): original is string {
  return original !== null && original.trim() !== '' && masked !== original;
}
