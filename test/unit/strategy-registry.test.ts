import { describe, expect, it } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import {
  columnRuleSchema,
  compileRule,
  leakCheckable,
  parseRule,
  ruleMisfit,
  STRATEGIES,
  usesRow,
} from '../../src/anonymize/strategies/registry.js';

describe('strategy registry', () => {
  it('derives the config rule schema from the strategies: bare names expand, options are validated', () => {
    expect(parseRule('email')).toEqual({ email: {} });
    expect(parseRule('null')).toEqual({ null: true });
    expect(parseRule({ mask: { keepLast: 2 } })).toEqual({ mask: { keepFirst: 0, keepLast: 2, char: '*' } });
    expect(parseRule({ shift: '2d' })).toEqual({ shift: 172_800_000 });
    expect(parseRule({ json: { '$.a': 'hash' } })).toEqual({ json: { '$.a': { hash: {} } } });
    for (const bad of ['fake', 'nope', { fake: 'not a kind' }, { shift: 'soon' }, { hash: {}, email: {} }])
      expect(columnRuleSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it('every registered strategy compiles, names itself, and answers the questions the pipeline asks', () => {
    const prf = new KeyedPrf('s');
    const examples: Record<string, unknown> = {
      null: true,
      fixed: 'x',
      hash: {},
      email: {},
      fake: 'person.firstName',
      mask: { keepLast: 1 },
      shift: '3d',
      template: '{id}',
      json: { '$.a': 'hash' },
      array: { each: 'hash' },
      ip: {},
      scramble: {},
    };
    for (const [name, strategy] of Object.entries(STRATEGIES)) {
      expect(strategy.name).toBe(name);
      expect(name in examples, `an example rule for ${name}`).toBe(true);
      const rule = columnRuleSchema.parse({ [name]: examples[name] });
      const masker = compileRule(rule, {
        prf,
        type: name === 'shift' ? 'date' : 'text',
        domain: 'x.invalid',
      });
      expect(typeof masker).toBe('function');
      expect(typeof leakCheckable(rule)).toBe('boolean');
      expect(usesRow(rule)).toBe(name === 'template');
    }
  });

  it('says why a rule does not fit a column', () => {
    expect(ruleMisfit(parseRule('email'), { type: 'int4' })).toMatch(/email writes text-like columns.*int4/);
    expect(ruleMisfit(parseRule('null'), { type: 'text', notNull: true })).toMatch(/NOT NULL/);
    expect(ruleMisfit(parseRule({ fake: 'person.fullName' }), { type: 'text', unique: true })).toMatch(
      /unique index/,
    );
    expect(ruleMisfit(parseRule({ hash: { length: 20 } }), { type: 'varchar', maxLength: 10 })).toMatch(
      /20 characters.*takes 10/,
    );
    expect(ruleMisfit(parseRule('hash'), { type: 'varchar', maxLength: 16, unique: true })).toBeUndefined();
  });
});
