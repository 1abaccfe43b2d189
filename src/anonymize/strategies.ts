// The masking strategies. Each is compiled once per column into a function of the original
// value (null stays null unless the rule says otherwise). Keyed by anonymize.secret, so the
// same input gives the same output across tables and runs: a masked e-mail still joins.
import { faker } from '@faker-js/faker';
import type { ColumnRule } from '../config/schema.js';
import { fastFake } from './fast-fake.js';
import type { KeyedPrf } from './prf/keyed-prf.js';

/** A parsed rule from config (`anonymize.tables.<table>.<column>`). */
export type { ColumnRule } from '../config/schema.js';

/** What a compiled strategy sees besides the value: the whole row (decoded), by column name. */
export type RowAccess = (column: string) => string | null;

export type Masker = (value: string | null, row: RowAccess) => string | null;

export interface StrategyContext {
  prf: KeyedPrf;
  /** PostgreSQL type of the column (information_schema data_type / udt_name). */
  type: string;
  domain: string;
}

/**
 * Whether "no sampled original appears in the column afterwards" is a meaningful check for the
 * rule. null/fixed never carry the input, and shift never returns a row's own date (the offset is
 * 1..N days) but may return another row's original date, so a set-based check would cry wolf.
 */
export function leakCheckable(rule: ColumnRule): boolean {
  if (rule === 'null') return false;
  if (typeof rule === 'object' && ('null' in rule || 'fixed' in rule || 'shift' in rule)) return false;
  return true;
}

/** Whether a rule reads other columns of the row (template, directly or inside json). */
export function usesRow(rule: ColumnRule): boolean {
  if (typeof rule !== 'object' || rule === null) return false;
  if ('template' in rule) return true;
  if ('json' in rule) return Object.values(rule.json).some(usesRow);
  return false;
}

/** Compiles a rule for one column. Throws Error with a readable message for unusable rules. */
export function compileRule(rule: ColumnRule, ctx: StrategyContext): Masker {
  if (rule === 'null' || (typeof rule === 'object' && 'null' in rule)) return () => null;
  if (rule === 'hash') return hashMasker(ctx, undefined);
  if (rule === 'email') return emailMasker(ctx, ctx.domain);
  if ('fixed' in rule) {
    const fixed = rule.fixed === null ? null : String(rule.fixed);
    return () => fixed;
  }
  if ('hash' in rule) return hashMasker(ctx, rule.hash.length);
  if ('email' in rule) return emailMasker(ctx, rule.email.domain ?? ctx.domain);
  if ('fake' in rule) return fakeMasker(ctx, rule.fake);
  if ('mask' in rule) return maskMasker(rule.mask);
  if ('shift' in rule) return shiftMasker(ctx, rule.shift);
  if ('template' in rule) return templateMasker(rule.template);
  if ('json' in rule) return jsonMasker(rule.json, ctx);
  throw new Error(`unknown rule ${JSON.stringify(rule)}`);
}

const INTEGER_TYPES = new Set(['smallint', 'integer', 'bigint', 'int2', 'int4', 'int8', 'numeric']);

function hashMasker(ctx: StrategyContext, length: number | undefined): Masker {
  if (INTEGER_TYPES.has(ctx.type)) {
    const max = ctx.type === 'smallint' || ctx.type === 'int2' ? 32_767 : 2_147_483_647;
    return (value) => (value === null ? null : String(1 + (ctx.prf.uint32(value) % max)));
  }
  if (ctx.type === 'uuid') {
    return (value) => {
      if (value === null) return null;
      const hex = ctx.prf.hex(value, 32);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    };
  }
  return (value) => (value === null ? null : ctx.prf.hex(value, length ?? 16));
}

/** u_<64-bit keyed token>@domain: valid, deterministic, unique in practice (collision odds ~n²/2^65). */
function emailMasker(ctx: StrategyContext, domain: string): Masker {
  return (value) => (value === null ? null : `u_${ctx.prf.token(value.trim().toLowerCase())}@${domain}`);
}

function fakeMasker(ctx: StrategyContext, kind: string): Masker {
  const fast = fastFake(kind);
  if (fast) return (value) => (value === null ? null : fast(ctx.prf.wide(value)));
  const [namespace, method] = kind.split('.') as [string, string];
  const module = (faker as unknown as Record<string, Record<string, unknown>>)[namespace];
  const generate = module?.[method];
  if (typeof generate !== 'function') throw new Error(`faker has no ${kind}`);
  return (value) => {
    if (value === null) return null;
    faker.seed(ctx.prf.uint32(`${kind}\u0000${value}`));
    return String((generate as () => unknown).call(module));
  };
}

const SURROGATE = /[\uD800-\uDFFF]/;

function maskMasker(rule: { keepFirst: number; keepLast: number; char: string }): Masker {
  const keep = rule.keepFirst + rule.keepLast;
  return (value) => {
    if (value === null) return null;
    if (!SURROGATE.test(value)) {
      // No characters outside the BMP: UTF-16 units are characters, no array needed.
      if (value.length <= keep) return rule.char.repeat(value.length);
      return (
        value.slice(0, rule.keepFirst) +
        rule.char.repeat(value.length - keep) +
        value.slice(value.length - rule.keepLast)
      );
    }
    const chars = [...value];
    // Never keep everything: a value no longer than what would be kept is masked whole.
    if (chars.length <= rule.keepFirst + rule.keepLast) return rule.char.repeat(chars.length);
    const middle = chars.length - rule.keepFirst - rule.keepLast;
    return (
      chars.slice(0, rule.keepFirst).join('') +
      rule.char.repeat(middle) +
      chars.slice(chars.length - rule.keepLast).join('')
    );
  };
}

/**
 * Moves the date part by a keyed offset of 1..N days either way; time and zone are kept as
 * written. Plain day arithmetic on the `YYYY-MM-DD` digits (a Date and toISOString cost ~1 µs a
 * value, and Date.UTC reads years 0–99 as 1900–1999). A result outside years 1–9999 goes the
 * other way instead.
 */
function shiftMasker(ctx: StrategyContext, rangeMs: number): Masker {
  const days = Math.max(1, Math.round(rangeMs / 86_400_000));
  return (value) => {
    if (value === null) return null;
    const day = isoDay(value);
    if (day === undefined) return value === 'infinity' || value === '-infinity' ? value : null;
    const bits = ctx.prf.uint32(value);
    const offset = 1 + ((bits >>> 1) % days);
    let shifted = formatDay(day + (bits & 1 ? -offset : offset));
    if (shifted === undefined) shifted = formatDay(day + (bits & 1 ? offset : -offset));
    return shifted === undefined ? null : shifted + value.slice(10);
  };
}

const digit = (text: string, index: number): number => text.charCodeAt(index) - 48;

/** Days since 1970-01-01 of a text starting `YYYY-MM-DD` (a real calendar date), else undefined. */
function isoDay(text: string): number | undefined {
  if (text.length < 10 || text[4] !== '-' || text[7] !== '-') return undefined;
  let year = 0;
  for (let index = 0; index < 4; index++) {
    const d = digit(text, index);
    if (d < 0 || d > 9) return undefined;
    year = year * 10 + d;
  }
  const m1 = digit(text, 5);
  const m2 = digit(text, 6);
  const d1 = digit(text, 8);
  const d2 = digit(text, 9);
  if ([m1, m2, d1, d2].some((d) => d < 0 || d > 9)) return undefined;
  const month = m1 * 10 + m2;
  const dayOfMonth = d1 * 10 + d2;
  if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, dayOfMonth);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Howard Hinnant's days_from_civil (proleptic Gregorian). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** `YYYY-MM-DD` of days since 1970-01-01 (civil_from_days), undefined outside years 1–9999. */
function formatDay(days: number): string | undefined {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1 || year > 9999) return undefined;
  return `${year < 1000 ? String(year).padStart(4, '0') : year}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

function templateMasker(template: string): Masker {
  const parts = template.split(/(\{[^}]+\})/);
  return (value, row) => {
    if (value === null) return null;
    return parts
      .map((part) => (part.startsWith('{') && part.endsWith('}') ? (row(part.slice(1, -1)) ?? '') : part))
      .join('');
  };
}

/** `$.a.b` / `a.b` paths inside json/jsonb, each with its own rule. */
function jsonMasker(rules: Record<string, ColumnRule>, ctx: StrategyContext): Masker {
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
}

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
