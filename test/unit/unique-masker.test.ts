import { describe, expect, it } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { compileRule, parseRule } from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { MaskCollisionError, uniqueMasker } from '../../src/anonymize/unique-masker.js';

const noRow = () => null;

describe('unique masker', () => {
  it('re-keys the second of two originals the e-mail masker lowercases onto one address', () => {
    const email = compileRule(parseRule('email'), {
      prf: new KeyedPrf('k'),
      type: 'text',
      domain: 'x.invalid',
    });
    expect(email('Ann@Example.com', noRow)).toBe(email('ann@example.com', noRow));
    const unique = uniqueMasker(email, 'public.t', 'email');
    const first = unique('Ann@Example.com', noRow);
    const second = unique('ann@example.com', noRow);
    expect(first).toBe(email('Ann@Example.com', noRow)); // the first keeps the plain mapping (joins)
    expect(second).not.toBe(first);
    expect(second).toMatch(/^u_[0-9a-f]{16}@x\.invalid$/);
    // The same original again (which a full unique key cannot hold) is re-keyed too: still unique.
    const again = unique('Ann@Example.com', noRow);
    expect(new Set([first, second, again]).size).toBe(3);
  });

  it('keeps 20k values of a 4-hex-digit hash unique (65k outputs: collisions certain)', () => {
    const short = compileRule(parseRule({ hash: { length: 4 } }), {
      prf: new KeyedPrf('k'),
      type: 'text',
      domain: 'x',
    });
    const unique = uniqueMasker(short, 'public.t', 'code');
    const outputs = new Set(Array.from({ length: 20_000 }, (_, index) => unique(`v${index}`, noRow)));
    expect(outputs.size).toBe(20_000);
  });

  it('reports a collision it cannot resolve as what it is, naming the column', () => {
    const constant = uniqueMasker(() => 'same', 'public.t', 'phone');
    constant('a', noRow);
    expect(() => constant('b', noRow)).toThrow(MaskCollisionError);
    expect(() => constant('c', noRow)).toThrow(/public\.t\.phone.*unique index/);
  });

  it('is applied by the table transform to the columns it is told are unique', () => {
    const transform = compileTableTransform(
      'public.s',
      ['email', 'n'],
      { email: parseRule('email') },
      new Map(),
      new KeyedPrf('k'),
      'x.invalid',
      new Set(['email']),
    );
    const [a, b] = transform.rows('A@b.c\t1\na@b.c\t2\n', 0, 16).out.split('\n');
    expect(a?.split('\t')[0]).not.toBe(b?.split('\t')[0]);
  });
});
