import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyRecorder, LedgerIndex, OutputLedger } from '../../src/anonymize/output-ledger.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'output-ledger-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `rows` keys as a stream records them, in blocks: distinct pseudo-random keys, with every
 * `repeatEvery`th row taking an earlier row's key and every 89th a NULL.
 */
function ledgerOf(rows: number, repeatEvery: number): { ledger: OutputLedger; keys: [number, number][] } {
  const ledger = new OutputLedger(join(dir, 'column.ledger'));
  const recorder = new KeyRecorder();
  const keys: [number, number][] = [];
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  for (let row = 0; row < rows; row++) {
    if (row % 89 === 0) {
      recorder.recordNull();
      keys.push([0, 0]);
    } else {
      const earlier = row % repeatEvery === 0 && row > 0 ? keys[next() % row] : undefined;
      const key: [number, number] =
        earlier && (earlier[0] !== 0 || earlier[1] !== 0) ? earlier : [next(), next() & 0xff];
      recorder.record(key[0], key[1]);
      keys.push(key);
    }
    if (row % 1000 === 999) ledger.append(recorder.take());
  }
  ledger.append(recorder.take());
  return { ledger, keys };
}

/** The reference: each row whose key an earlier row has, by a Set of the keys met. */
function clashesOf(keys: readonly [number, number][]): number[] {
  const seen = new Set<string>();
  const clashes: number[] = [];
  keys.forEach(([lo, hi], row) => {
    if (lo === 0 && hi === 0) return;
    const key = `${lo}:${hi}`;
    if (seen.has(key)) clashes.push(row);
    seen.add(key);
  });
  return clashes;
}

describe('finding the rows whose key an earlier row has (LedgerIndex.clashes)', () => {
  it.each([
    ['one partition, the ledger read where it is', 200_000, undefined],
    ['partitions of 40k rows', 300_000, 40_000],
    ['partitions of 1,000 rows', 6_000, 1_000],
  ])('finds exactly the rows a set of the keys met finds: %s', (_, rows, partitionRows) => {
    // Keys whose high word has only 8 bits: the partitions and the slots must take the low word's too.
    const { ledger, keys } = ledgerOf(rows, 37);
    const index = LedgerIndex.build(ledger.close(), partitionRows);
    try {
      const expected = clashesOf(keys);
      expect(expected.length).toBeGreaterThan(rows / 50);
      expect(index.clashes()).toEqual(expected);
    } finally {
      index.remove();
      ledger.remove();
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
