import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MEMO_ENTRIES, MEMO_MAX_LENGTH, memoMasker } from '../../src/anonymize/memo-masker.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { compileRule, memoizable, parseRule } from '../../src/anonymize/strategies/registry.js';

const noRow = () => null;

describe('memoized maskers', () => {
  it('give what the masker gives, for any sequence of repeated values', () => {
    const prf = new KeyedPrf('memo');
    const masks = ['hash', 'email', { fake: 'person.fullName' }, 'scramble'].map((rule) =>
      compileRule(parseRule(rule as never), { prf, type: 'text', domain: 'x.invalid' }),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.option(fc.constantFrom('Ann', 'Bob', 'Chloé', '', 'x'.repeat(MEMO_MAX_LENGTH + 1)), {
            nil: null,
          }),
          {
            maxLength: 60,
          },
        ),
        (values) => {
          for (const mask of masks) {
            const memo = memoMasker(mask);
            for (const value of values) expect(memo(value, noRow)).toBe(mask(value, noRow));
          }
        },
      ),
    );
  });

  it('looks repeated values up instead of masking them again, within its bound', () => {
    let calls = 0;
    const memo = memoMasker((value) => {
      calls++;
      return `m(${value})`;
    });
    for (let round = 0; round < 5; round++)
      for (let index = 0; index < 1000; index++) memo(`v${index}`, noRow);
    expect(calls).toBe(1000);
    // More distinct values than it holds: it starts over, so it keeps masking (and stays bounded).
    calls = 0;
    for (let round = 0; round < 2; round++)
      for (let index = 0; index < MEMO_ENTRIES + 10; index++) memo(`w${index}`, noRow);
    expect(calls).toBeGreaterThan(MEMO_ENTRIES + 10);
  });

  it('switches itself off on a column whose values do not repeat', () => {
    let calls = 0;
    const memo = memoMasker((value) => {
      calls++;
      return value;
    });
    for (let index = 0; index < MEMO_ENTRIES + 100; index++) memo(`unique-${index}`, noRow);
    calls = 0;
    memo('again', noRow);
    memo('again', noRow);
    expect(calls).toBe(2); // no cache any more
  });

  it('stays where most lookups hit and goes where under ~40 % do (a lookup costs about what it saves)', () => {
    /** One memo fed a column where `repeatShare` of the values are one of 100 seen before. */
    const callsAfter = (repeatShare: number) => {
      let calls = 0;
      const memo = memoMasker((value) => {
        calls++;
        return value;
      });
      for (let index = 0; index < MEMO_ENTRIES + 100; index++)
        memo(index % 100 < repeatShare * 100 ? `common-${index % 7}` : `rare-${index}`, noRow);
      calls = 0;
      memo('common-1', noRow);
      return calls;
    };
    expect(callsAfter(0.3)).toBe(1); // 30 % hits: off
    expect(callsAfter(0.6)).toBe(0); // 60 % hits: still on
  });

  it('applies to keyed strategies that read only the value, not to cheap ones, row readers or shift', () => {
    expect(memoizable(parseRule('hash'))).toBe(true);
    // shift keeps the dates it moved by day itself (its bytes path), cheaper than this cache.
    expect(memoizable(parseRule({ shift: '30d' }))).toBe(false);
    expect(memoizable(parseRule({ mask: { keepLast: 2 } }))).toBe(false);
    expect(memoizable(parseRule({ template: 'u_{id}' }))).toBe(false);
    expect(memoizable(parseRule({ json: { '$.a': { template: 'u_{id}' } } }))).toBe(false);
  });
});
