// The rule that fits a column: candidates for what the column means (from its name) and for its
// type, tried in order; the first that fits the column's type, length, nullability and unique
// index wins. Used to name "the rule that fits" when a rule does not, and by `plan --write-rules`.
import { KeyedPrf } from './prf/keyed-prf.js';
import { type ColumnRuleInput, compileRule, parseRule, ruleMisfit } from './strategies/registry.js';
import type { ColumnShape } from './strategies/strategy.js';
import { INTEGER_TYPES, TEXT_TYPES } from './strategies/strategy.js';

const probe = new KeyedPrf('staging-refresh:rule-suggest');
const PROBES = Array.from({ length: 200 }, (_, index) => `Probe Value ${index} probe${index}@example.com`);
const IP_PROBES = Array.from({ length: 50 }, (_, index) => `192.0.2.${index}`);
const DATE_PROBES = Array.from({ length: 50 }, (_, index) => `20${String(index).padStart(2, '0')}-06-15`);

/** Candidates by meaning, from the column's name (lowercased, spaces as underscores). */
function byMeaning(name: string): ColumnRuleInput[] {
  const n = name.toLowerCase().replace(/[\s-]+/g, '_');
  if (/e_?mail/.test(n)) return ['email'];
  if (/(^|_)ip(_?addr(ess)?)?$|(^|_)(remote|client)_?addr(ess)?$/.test(n)) return ['ip'];
  if (/first_?name|given_?name|forename/.test(n)) return [{ fake: 'person.firstName' }];
  if (/last_?name|sur_?name|family_?name/.test(n)) return [{ fake: 'person.lastName' }];
  if (/user_?name|login/.test(n)) return [{ fake: 'internet.userName' }];
  if (/company|organi[sz]ation/.test(n)) return [{ fake: 'company.name' }];
  if (/name/.test(n)) return [{ fake: 'person.fullName' }];
  if (/city|town/.test(n)) return [{ fake: 'location.city' }];
  if (/zip|postal|post_?code/.test(n)) return ['scramble', { mask: { char: '0' } }];
  if (/phone|mobile|fax|msisdn/.test(n)) return ['scramble', { mask: { keepLast: 2, char: '0' } }];
  if (/card|^pan$|cc_?num|iban|account/.test(n)) return [{ mask: { keepLast: 4 } }];
  if (/address|street/.test(n)) return [{ fake: 'location.streetAddress' }];
  if (/birth|^dob$/.test(n)) return [{ shift: '30d' }];
  return [];
}

/** Candidates by type, after the meaning ones: ones that always fit. */
function byType(shape: ColumnShape): ColumnRuleInput[] {
  const { type } = shape;
  const candidates: ColumnRuleInput[] = [];
  if (type === 'inet' || type === 'cidr') candidates.push('ip');
  if (type === 'date' || type === 'timestamp' || type === 'timestamptz') candidates.push({ shift: '30d' });
  if (INTEGER_TYPES.has(type) || type === 'uuid') candidates.push('hash');
  if (TEXT_TYPES.has(type)) {
    if (!shape.unique) candidates.push({ mask: { keepFirst: 3, char: '0' } });
    const length = shape.maxLength === undefined ? 16 : Math.min(16, shape.maxLength);
    if (length >= 4) candidates.push(length === 16 ? 'hash' : { hash: { length } });
    candidates.push({ mask: {} });
  }
  if (!shape.notNull) candidates.push('null');
  if (type === 'json' || type === 'jsonb') candidates.push({ fixed: '{}' });
  if (type.startsWith('_')) candidates.push({ fixed: '{}' });
  return candidates;
}

/** Whether a rule fits the column: no static misfit, and its outputs on probe values fit the length. */
export function fits(rule: ColumnRuleInput, shape: ColumnShape, domain: string): boolean {
  const parsed = parseRule(rule);
  if (ruleMisfit(parsed, shape) !== undefined) return false;
  const mask = compileRule(parsed, { prf: probe, type: shape.type, domain });
  // The column's own values fit it: probes longer than its length would fail rules that keep it.
  const inputs = probesFor(parsed, shape.type).map((input) =>
    shape.maxLength === undefined || shape.type.startsWith('_')
      ? input
      : [...input].slice(0, shape.maxLength).join(''),
  );
  try {
    for (const input of inputs) {
      const out = mask(input, () => null);
      if (out === null && shape.notNull) return false;
      if (out !== null && shape.maxLength !== undefined && [...out].length > shape.maxLength) return false;
    }
  } catch {
    return false;
  }
  return true;
}

/** Values like the column's to try a rule on: dates, addresses, or arrays of those. */
function probesFor(rule: ReturnType<typeof parseRule>, type: string): string[] {
  const element = type.startsWith('_') ? type.slice(1) : type;
  const inner = 'array' in rule ? rule.array.each : rule;
  const base = 'shift' in inner ? DATE_PROBES : element === 'inet' || element === 'cidr' ? IP_PROBES : PROBES;
  return type.startsWith('_') ? base.map((value) => `{"${value}",NULL}`) : base;
}

/** Candidates (by meaning, then by type) that fit the column's type, length, nullability and uniqueness. */
export function candidateRules(column: string, shape: ColumnShape, domain: string): ColumnRuleInput[] {
  // meaningRules are checked already
  return [
    ...meaningRules(column, shape, domain),
    ...byType(shape).filter((rule) => fits(rule, shape, domain)),
  ];
}

/** The candidates its name gives a column (each element's, for an array column) that fit it. */
export function meaningRules(column: string, shape: ColumnShape, domain: string): ColumnRuleInput[] {
  return byMeaning(column)
    .map((rule): ColumnRuleInput => (shape.type.startsWith('_') ? { array: { each: rule } } : rule))
    .filter((rule) => fits(rule, shape, domain));
}

/** The first candidate that fits the column; undefined when none does. */
export function suggestRule(column: string, shape: ColumnShape, domain: string): ColumnRuleInput | undefined {
  return candidateRules(column, shape, domain)[0];
}
