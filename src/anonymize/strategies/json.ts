// `json` — rules for paths inside a json/jsonb value (`$.a.b`, `*` for every array element), each
// path with its own rule. A value that is not JSON becomes NULL rather than leak.
import { z } from 'zod';
import { type ColumnRule, type ColumnRuleInput, columnRuleSchema, compileRule, usesRow } from './registry.js';
import type { Strategy } from './strategy.js';

/** Path → rule. (An interface: the rule type is derived from the registry, which holds this strategy.) */
export interface JsonRules {
  [path: string]: ColumnRule;
}

/** Path → rule, as written in config. */
export interface JsonRulesInput {
  [path: string]: ColumnRuleInput;
}

/** Masks the values at the given paths of a JSON document. */
export const jsonStrategy: Strategy<'json', JsonRules, JsonRulesInput> = {
  name: 'json',
  options: z.record(
    z.string(),
    z.lazy(() => columnRuleSchema),
  ),
  writes: 'json and jsonb columns (and text holding JSON)',
  accepts: (type) => type === 'json' || type === 'jsonb' || type === 'text',
  leakCheckable: true,
  memoize: true,
  readsRow: (rules) => Object.values(rules).some(usesRow),
  compile: (rules, ctx) => {
    const compiled = Object.entries(rules).map(([path, rule]) => ({
      path: path
        .replace(/^\$\.?/, '')
        .split('.')
        .filter(Boolean),
      mask: compileRule(rule, { ...ctx, type: 'text' }),
    }));
    return (value, row) => {
      if (value === null) return null;
      let document: unknown;
      try {
        document = JSON.parse(value);
      } catch {
        return null; // not JSON: drop rather than leak
      }
      for (const { path, mask } of compiled) applyAtPath(document, path, (inner) => mask(inner, row));
      return JSON.stringify(document);
    };
  },
};

function applyAtPath(node: unknown, path: string[], mask: (value: string | null) => string | null): void {
  if (node === null || typeof node !== 'object' || path.length === 0) return;
  const [head, ...rest] = path as [string, ...string[]];
  const container = node as Record<string, unknown>;
  if (head === '*' && Array.isArray(node)) {
    for (let index = 0; index < node.length; index++) {
      if (rest.length === 0) node[index] = maskScalar(node[index], mask);
      else applyAtPath(node[index], rest, mask);
    }
    return;
  }
  if (!(head in container)) return;
  if (rest.length === 0) container[head] = maskScalar(container[head], mask);
  else applyAtPath(container[head], rest, mask);
}

function maskScalar(value: unknown, mask: (value: string | null) => string | null): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object') return mask(JSON.stringify(value));
  return mask(String(value));
}
