import { describe, expect, it } from 'vitest';
import { ByteSink } from '../../src/anonymize/copy-bytes.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { compileRule, compileRuleBytes, parseRule } from '../../src/anonymize/strategies/registry.js';
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

  it('claims an e-mail address by its token, the same key on the bytes path and the string path', () => {
    const ctx = { prf: new KeyedPrf('k'), type: 'text', domain: 'x.invalid' };
    const rule = parseRule('email');
    const mask = compileRule(rule, ctx);
    const bytes = compileRuleBytes(rule, ctx);
    const key = bytes?.key;
    expect(key).toBeDefined();
    for (const value of ['a@b.c', ' Ann@Example.COM ', 'x'.repeat(300), '']) {
      const sink = new ByteSink(8);
      bytes?.(Buffer.from(value), 0, value.length, sink);
      const written = sink.bytes().toString('latin1');
      expect(written).toBe(mask(value, noRow));
      const [lo, hi] = [key?.last(), key?.high()];
      // The token's two words, as the address spells them (high first).
      expect([hi, lo]).toEqual([
        Number.parseInt(written.slice(2, 10), 16),
        Number.parseInt(written.slice(10, 18), 16),
      ]);
      expect([key?.of(written), key?.high()]).toEqual([lo, hi]);
    }
    // One block: an address claimed on the bytes path, then the same mailbox spelled with an
    // escape (the string path) — re-keyed, because both paths claim by the same key.
    const transform = compileTableTransform(
      'public.s',
      ['email', 'n'],
      { email: rule },
      new Map(),
      new KeyedPrf('k'),
      'x.invalid',
      new Set(['email']),
    );
    const block = Buffer.from('user1@corp.example\t1\n\\x55SER1@corp.example\t2\n');
    const [first, second] = transform.bytes(block, 0, block.length).out.toString().split('\n');
    expect(first?.split('\t')[0]).toBe(mask('user1@corp.example', noRow));
    expect(second?.split('\t')[0]).toMatch(/^u_[0-9a-f]{16}@x\.invalid$/);
    expect(second?.split('\t')[0]).not.toBe(first?.split('\t')[0]);
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
