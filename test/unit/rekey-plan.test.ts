import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyRecorder, LedgerIndex, OutputLedger } from '../../src/anonymize/output-ledger.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { planRekeys } from '../../src/anonymize/rekey-plan.js';
import {
  compileRule,
  compileRuleBytes,
  type Masker,
  parseRule,
} from '../../src/anonymize/strategies/registry.js';
import { MaskCollisionError, outputKey, uniqueMasker } from '../../src/anonymize/unique-masker.js';

const noRow = () => null;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rekey-plan-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What the stream writes with a ledger, then the plan: each row's final output. */
async function viaLedger(
  values: readonly (string | null)[],
  mask: Masker,
  keyOf: (out: string) => [number, number],
  partitionRows?: number,
  /** The rows read again, per read. */
  read: number[][] = [],
): Promise<(string | null)[]> {
  const ledger = new OutputLedger(join(dir, 'email.ledger'));
  const recorder = new KeyRecorder();
  // In blocks of 97 rows, as a stream appends its blocks' keys.
  const plain = values.map((value, row) => {
    const out = mask(value, noRow);
    if (value === null || out === null) recorder.recordNull();
    else recorder.record(...keyOf(out));
    if (row % 97 === 96) ledger.append(recorder.take());
    return out;
  });
  ledger.append(recorder.take());
  const index = LedgerIndex.build(ledger.close(), partitionRows);
  try {
    const rekeyed = await planRekeys({
      table: 'public.users',
      column: 'email',
      index,
      mask,
      keyOf,
      originals: async (rows) => {
        read.push([...rows]);
        return new Map(rows.map((row) => [row, { value: values[row] as string, row: noRow }]));
      },
    });
    return plain.map((out, row) => (rekeyed.has(row) ? (rekeyed.get(row) ?? null) : out));
  } finally {
    index.remove();
    ledger.remove();
  }
}

/** The in-memory reference: uniqueMasker over the rows in order. */
const inMemory = (values: readonly (string | null)[], mask: Masker) => {
  const unique = uniqueMasker(mask, 'public.users', 'email');
  return values.map((value) => unique(value, noRow));
};

/** Deterministic pseudo-random originals: `count` values drawn from `distinct`, some NULL. */
function originals(count: number, distinct: number, seed: number): (string | null)[] {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  return Array.from({ length: count }, () => {
    const draw = next() % distinct;
    return draw % 97 === 0 ? null : `Person${draw}@Example.com`;
  });
}

describe('re-keying after the stream (ledger + plan)', () => {
  const prf = new KeyedPrf('secret');
  const ctx = { prf, type: 'text', domain: 'x.invalid' };

  it('gives exactly the in-memory outputs for a short hash (many clashes, re-keys taken in turn)', async () => {
    const rule = parseRule({ hash: { length: 4 } });
    const mask = compileRule(rule, ctx);
    const keyOf = (out: string) => outputKey(compileRuleBytes(rule, ctx), out);
    // 8,000 rows onto 65,536 outputs: hundreds clash; partitions of 1,000 rows split the ledger in 8.
    const values = originals(8000, 1_000_000, 7);
    const expected = inMemory(values, mask);
    const got = await viaLedger(values, mask, keyOf, 1000);
    expect(got).toEqual(expected);
    expect(new Set(got.filter((out) => out !== null)).size).toBe(got.filter((out) => out !== null).length);
    expect(got.filter((out, row) => out !== mask(values[row] ?? null, noRow)).length).toBeGreaterThan(100);
  });

  it("gives exactly the in-memory outputs for e-mail addresses that differ only in case (the rule's exact key)", async () => {
    const rule = parseRule('email');
    const mask = compileRule(rule, ctx);
    const bytes = compileRuleBytes(rule, ctx);
    expect(bytes?.key).toBeDefined();
    const keyOf = (out: string) => outputKey(bytes, out);
    const values = originals(3000, 2000, 11).map((value, row) =>
      value && row % 3 === 0 ? value.toLowerCase() : value,
    );
    const expected = inMemory(values, mask);
    expect(await viaLedger(values, mask, keyOf)).toEqual(expected);
    expect(await viaLedger(values, mask, keyOf, 64)).toEqual(expected);
  });

  it('re-keys a row whose plain output an earlier re-keyed row took (the cascade), as the stream would', async () => {
    // A rule whose re-keyed outputs are the plain outputs of later rows: a\0 1 → "b".
    const table: Record<string, string> = {
      a: 'x',
      'a\u00001': 'b',
      b: 'b',
      'b\u00001': 'c',
      'b\u00002': 'd',
    };
    const mask: Masker = (value) => (value === null ? null : (table[value] ?? `m(${value})`));
    const keyOf = (out: string) => outputKey(undefined, out);
    const values = ['a', 'a', 'b', 'b'];
    const expected = inMemory(values, mask);
    expect(expected).toEqual(['x', 'b', 'c', 'd']);
    const read: number[][] = [];
    expect(await viaLedger(values, mask, keyOf, undefined, read)).toEqual(expected);
    // The clashing rows first; then row 2, whose plain "b" row 1 took.
    expect(read).toEqual([[1, 3], [2]]);
  });

  it('fails as the stream does when no re-keyed output is free', async () => {
    const mask: Masker = (value) => (value === null ? null : 'same');
    const keyOf = (out: string) => outputKey(undefined, out);
    expect(() => inMemory(['a', 'b'], mask)).toThrow(MaskCollisionError);
    await expect(viaLedger(['a', 'b'], mask, keyOf)).rejects.toThrow(MaskCollisionError);
  });

  it('reads nothing again when no output repeats, and leaves no file behind', async () => {
    const mask = compileRule(parseRule('hash'), ctx);
    const keyOf = (out: string) => outputKey(compileRuleBytes(parseRule('hash'), ctx), out);
    const values = originals(2000, 1_000_000_000, 3);
    const unique = [...new Set(values)];
    const read: number[][] = [];
    expect(await viaLedger(unique, mask, keyOf, 100, read)).toEqual(
      unique.map((value) => mask(value, noRow)),
    );
    expect(read).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });
});
