// The strategy registry: every masking strategy by name. The config's rule schema, the ColumnRule
// type and compile/leak-check/row-reading questions are all derived from this one table, so adding
// a strategy is one new file in this folder and one line here.
import { z } from 'zod';
import { arrayStrategy } from './array.js';
import { emailStrategy } from './email.js';
import { fakeStrategy } from './fake.js';
import { fixedStrategy } from './fixed.js';
import { hashStrategy } from './hash.js';
import { ipStrategy } from './ip.js';
import { jsonStrategy } from './json.js';
import { maskStrategy } from './mask.js';
import { nullStrategy } from './null.js';
import { scrambleStrategy } from './scramble.js';
import { shiftStrategy } from './shift.js';
import type { BytesMasker, ColumnShape, Masker, Strategy, StrategyContext } from './strategy.js';
import { templateStrategy } from './template.js';

/** Every strategy, by the name a rule uses. */
export const STRATEGIES = {
  null: nullStrategy,
  fixed: fixedStrategy,
  hash: hashStrategy,
  email: emailStrategy,
  fake: fakeStrategy,
  mask: maskStrategy,
  shift: shiftStrategy,
  template: templateStrategy,
  json: jsonStrategy,
  array: arrayStrategy,
  ip: ipStrategy,
  scramble: scrambleStrategy,
};

type Registry = typeof STRATEGIES;
/** A strategy's name. */
export type StrategyName = keyof Registry;
type OptionsOf<S> = S extends { options: z.ZodType<infer Options, infer _Input> } ? Options : never;
type InputOf<S> = S extends { options: z.ZodType<infer _Options, infer Input> } ? Input : never;

/** A parsed rule (`{ <strategy>: <options> }`): bare names expanded, defaults applied, durations in ms. */
export type ColumnRule = { [K in StrategyName]: { [P in K]: OptionsOf<Registry[P]> } }[StrategyName];

/** A rule as written in config: `{ <strategy>: <options> }`, or a bare name (`email`, `hash`, `null`). */
export type ColumnRuleInput =
  | { [K in StrategyName]: { [P in K]: InputOf<Registry[P]> } }[StrategyName]
  | StrategyName;

const NAMES = Object.keys(STRATEGIES) as StrategyName[];
const BARE = NAMES.filter((name) => STRATEGIES[name].bare !== undefined);

type AnyStrategy = Strategy<string, unknown, unknown>;
const strategy = (name: StrategyName): AnyStrategy => STRATEGIES[name] as unknown as AnyStrategy;

/** The zod schema of one column rule: a union of `{ name: options }` objects and the bare names. */
export const columnRuleSchema: z.ZodType<ColumnRule, ColumnRuleInput> = z.union([
  z
    .enum(BARE as [StrategyName, ...StrategyName[]])
    .transform((name) => ({ [name]: strategy(name).bare }) as ColumnRule),
  ...NAMES.map((name) => z.strictObject({ [name]: strategy(name).options })),
] as unknown as [z.ZodType<ColumnRule, ColumnRuleInput>, ...z.ZodType<ColumnRule, ColumnRuleInput>[]]);

/** The strategy a rule names and its options. */
export function ruleParts(rule: ColumnRule): { name: StrategyName; options: unknown; strategy: AnyStrategy } {
  const name = Object.keys(rule)[0] as StrategyName;
  return { name, options: (rule as Record<string, unknown>)[name], strategy: strategy(name) };
}

/** Compiles a rule for one column. Throws Error with a readable message for unusable rules. */
export function compileRule(rule: ColumnRule, ctx: StrategyContext): Masker {
  const { options, strategy } = ruleParts(rule);
  return strategy.compile(options, ctx);
}

/** The rule on plain fields' bytes (see BytesMasker), where its strategy has that path. */
export function compileRuleBytes(rule: ColumnRule, ctx: StrategyContext): BytesMasker | undefined {
  const { options, strategy } = ruleParts(rule);
  return strategy.compileBytes?.(options, ctx);
}

/** Whether "the same row's masked value is not the original" is a meaningful check for the rule. */
export function leakCheckable(rule: ColumnRule): boolean {
  return ruleParts(rule).strategy.leakCheckable;
}

/** Whether repeated values of the column are worth caching (see memo-masker.ts). */
export function memoizable(rule: ColumnRule): boolean {
  const { options, strategy } = ruleParts(rule);
  return strategy.memoize === true && !strategy.readsRow(options);
}

/** Whether a rule reads other columns of the row (template, directly or inside json). */
export function usesRow(rule: ColumnRule): boolean {
  const { options, strategy } = ruleParts(rule);
  return strategy.readsRow(options);
}

/** Why the rule does not fit the column (type, then length/NOT NULL/unique), or undefined. */
export function ruleMisfit(rule: ColumnRule, column: ColumnShape): string | undefined {
  const { name, options, strategy } = ruleParts(rule);
  if (!strategy.accepts(column.type))
    return `${name} writes ${strategy.writes}, and the column is of type ${column.type}`;
  return strategy.misfit?.(options, column);
}

export type { BytesMasker, ColumnShape, Masker, RowAccess, StrategyContext } from './strategy.js';

/** A rule as written (`'email'`, `{ mask: { keepLast: 2 } }`) parsed into its ColumnRule. */
export function parseRule(input: ColumnRuleInput): ColumnRule {
  return columnRuleSchema.parse(input);
}

/** A parsed rule written back as config would say it (bare names, shift in days), for rules files. */
export function ruleToInput(rule: ColumnRule): ColumnRuleInput {
  const { name, options } = ruleParts(rule);
  if (name === 'shift') return { shift: `${Math.max(1, Math.round((options as number) / 86_400_000))}d` };
  if (name === 'json')
    return {
      json: Object.fromEntries(
        Object.entries(options as Record<string, ColumnRule>).map(([path, inner]) => [
          path,
          ruleToInput(inner),
        ]),
      ),
    };
  if (name === 'array') return { array: { each: ruleToInput((options as { each: ColumnRule }).each) } };
  const bare = STRATEGIES[name].bare;
  if (bare !== undefined && JSON.stringify(options) === JSON.stringify(bare)) return name;
  return rule as ColumnRuleInput;
}
