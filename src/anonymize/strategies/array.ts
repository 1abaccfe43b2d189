// `array` — a rule for each element of an array column (`text[]`, `varchar[]`, `inet[]`…):
// `{ array: { each: email } }`, `{ array: { each: { mask: { keepLast: 2 } } } }`. Nulls and the
// shape (dimensions, bounds) stay; a value that is not an array becomes NULL rather than leak.
import { z } from 'zod';
import { formatPgArray, type PgArray, parsePgArray } from './pg-array.js';
import {
  type ColumnRule,
  type ColumnRuleInput,
  columnRuleSchema,
  compileRule,
  ruleMisfit,
  usesRow,
} from './registry.js';
import type { Strategy } from './strategy.js';

/** The element rule. (Interfaces: the rule type is derived from the registry, which holds this strategy.) */
export interface ArrayRule {
  each: ColumnRule;
}

/** The element rule, as written in config. */
export interface ArrayRuleInput {
  each: ColumnRuleInput;
}

/** Masks every element of an array with one rule. */
export const arrayStrategy: Strategy<'array', ArrayRule, ArrayRuleInput> = {
  name: 'array',
  options: z.strictObject({ each: z.lazy(() => columnRuleSchema) }),
  writes: 'array columns (the element rule must fit the element type)',
  accepts: (type) => type.startsWith('_'),
  leakCheckable: true,
  memoize: true,
  readsRow: ({ each }) => usesRow(each),
  // Elements have no length or NOT NULL of their own: the element type is what must fit.
  misfit: ({ each }, column) => {
    const problem = ruleMisfit(each, { type: column.type.slice(1) });
    return problem && `array elements: ${problem}`;
  },
  compile: ({ each }, ctx) => {
    const element = compileRule(each, {
      ...ctx,
      type: ctx.type.startsWith('_') ? ctx.type.slice(1) : ctx.type,
    });
    return (value, row) => {
      if (value === null) return null;
      let parsed: ReturnType<typeof parsePgArray>;
      try {
        parsed = parsePgArray(value);
      } catch {
        return null; // not an array: drop rather than leak
      }
      const mask = (items: PgArray): PgArray =>
        items.map((item) => (Array.isArray(item) ? mask(item) : item === null ? null : element(item, row)));
      return formatPgArray({ bounds: parsed.bounds, items: mask(parsed.items) });
    };
  },
};
