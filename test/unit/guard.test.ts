import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { GuardError } from '../../src/errors.js';
import { parsePgUrl } from '../../src/infra/pg/connection.js';
import { guardTarget, matchesAllow } from '../../src/stages/guard/guard.js';

function config(extra = '', url = 'postgres://refresh@staging-db:5432/app', allow = '[staging-db:5432/app]') {
  return parseConfig(
    `source: { local: { path: /b } }\nworkDir: /w\ntarget: { url: '${url}', allow: ${allow} }\n${extra}`,
    {},
    '/',
  );
}

function refusal(run: () => unknown): GuardError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GuardError);
    expect((error as GuardError).exitCode).toBe(77);
    return error as GuardError;
  }
  throw new Error('expected the guard to refuse');
}

describe('guard', () => {
  it('allows a listed target', () => {
    const cfg = config();
    expect(guardTarget(cfg, parsePgUrl(cfg.target.url))).toBe('staging-db:5432/app');
  });

  it('refuses a target not in target.allow and says how to allow it', () => {
    const cfg = config('', 'postgres://refresh@staging-db:5432/other');
    const error = refusal(() => guardTarget(cfg, parsePgUrl(cfg.target.url)));
    expect(error.message).toContain('staging-db:5432/other');
    expect(error.hint).toContain('add "staging-db:5432/other" to target.allow');
  });

  it('refuses production even when target.allow lists it', () => {
    const cfg = config(
      'production: { hosts: [PROD-db.internal] }',
      'postgres://x@prod-db.internal:5432/app',
      '[prod-db.internal:5432/app]',
    );
    expect(refusal(() => guardTarget(cfg, parsePgUrl(cfg.target.url))).message).toContain('production.hosts');
  });

  it('refuses the control database as a target', () => {
    const cfg = config('control: { url: postgres://x@staging-db:5432/app }');
    expect(refusal(() => guardTarget(cfg, parsePgUrl(cfg.target.url))).message).toContain('control database');
  });

  it('refuses names whose __prev2 would not fit in 63 bytes', () => {
    const name = 'a'.repeat(57); // a…a__prev2 is 64 bytes
    const cfg = config('', `postgres://x@h:5432/${name}`, `[h:5432/${name}]`);
    expect(refusal(() => guardTarget(cfg, parsePgUrl(cfg.target.url))).message).toContain('63 bytes');
  });

  it('accepts a name whose __prev2 is exactly 63 bytes', () => {
    const name = 'a'.repeat(56);
    const cfg = config('', `postgres://x@h:5432/${name}`, `[h:5432/${name}]`);
    expect(guardTarget(cfg, parsePgUrl(cfg.target.url))).toBe(`h:5432/${name}`);
  });

  it('matches allow entries with default port and wildcard database', () => {
    const target = parsePgUrl('postgres://x@Staging-DB/app');
    expect(matchesAllow('staging-db/app', target)).toBe(true);
    expect(matchesAllow('staging-db:5432/*', target)).toBe(true);
    expect(matchesAllow('staging-db:5433/app', target)).toBe(false);
    expect(matchesAllow('staging-db:5432/ap', target)).toBe(false);
    expect(matchesAllow('garbage', target)).toBe(false);
  });
});
