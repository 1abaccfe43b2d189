import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError, GuardError } from '../../src/errors.js';
import { canonicalAddress, normalizeHost, resolveEndpoint } from '../../src/infra/net/endpoint.js';
import { parsePgUrl } from '../../src/infra/pg/connection.js';
import { toolEnv } from '../../src/infra/process/run-tool.js';
import { guardTarget, matchesAllow, parseHostEntry } from '../../src/stages/guard/guard.js';

function config(extra = '', url = 'postgres://refresh@staging-db:5432/app', allow = '[staging-db:5432/app]') {
  return parseConfig(
    `source: { local: { path: /b } }\nworkDir: /w\ntarget: { url: '${url}', allow: ${allow} }\n${extra}`,
    {},
    '/',
  );
}

async function refusal(run: () => Promise<unknown>): Promise<GuardError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(GuardError);
    expect((error as GuardError).exitCode).toBe(77);
    return error as GuardError;
  }
  throw new Error('expected the guard to refuse');
}

const guard = (cfg: ReturnType<typeof config>) => guardTarget(cfg, parsePgUrl(cfg.target.url));

describe('guard', () => {
  it('allows a listed target', async () => {
    expect(await guard(config())).toBe('staging-db:5432/app');
  });

  it('refuses a target not in target.allow and says how to allow it', async () => {
    const error = await refusal(() => guard(config('', 'postgres://refresh@staging-db:5432/other')));
    expect(error.message).toContain('staging-db:5432/other');
    expect(error.hint).toContain('add "staging-db:5432/other" to target.allow');
  });

  it('refuses production even when target.allow lists it', async () => {
    const cfg = config(
      'production: { hosts: [PROD-db.internal.] }',
      'postgres://x@prod-db.internal:5432/app',
      '[prod-db.internal:5432/app]',
    );
    expect((await refusal(() => guard(cfg))).message).toContain('production.hosts');
  });

  // Every spelling of the same machine: names through /etc/hosts, IPv4 short and hex forms,
  // IPv6 and IPv4-mapped forms, trailing dots, case, default ports, unix sockets.
  const sameMachine: [string, string][] = [
    ['localhost', 'postgres://x@127.0.0.1:5432/app'],
    ['LOCALHOST.', 'postgres://x@127.0.0.1/app'],
    ['127.1', 'postgres://x@localhost:5432/app'],
    ['0x7f.0.0.1:5432', 'postgres://x@localhost/app'],
    ['2130706433', 'postgres://x@127.0.0.1/app'],
    ['::ffff:127.0.0.1', 'postgres://x@127.0.0.1/app'],
    ['[::ffff:7f00:1]:5432', 'postgres://x@localhost/app'],
    ['[0:0:0:0:0:0:0:1]', 'postgres://x@[::1]:5432/app'],
    ['127.0.0.1', 'postgres://x@/app?host=localhost'],
    ['/var/run/postgresql/', 'postgres://x@%2Fvar%2Frun%2Fpostgresql/app'],
    ['localhost', 'postgres://x@/app?host=/var/run/postgresql'],
  ];
  for (const [production, url] of sameMachine) {
    it(`refuses ${url} when production.hosts lists ${production}`, async () => {
      const cfg = config(`production: { hosts: ['${production}'] }`, url, `['*:5432/app']`);
      expect((await refusal(() => guard(cfg))).message).toContain('production.hosts');
    });
  }

  it('a production entry with another port does not refuse, and the port defaults to 5432', async () => {
    const cfg = config(
      `production: { hosts: ['127.0.0.1:5433'] }`,
      'postgres://x@localhost/app',
      '[localhost/app]',
    );
    expect(await guard(cfg)).toBe('localhost:5432/app');
    const onDefault = config(
      `production: { hosts: ['127.0.0.1:5432'] }`,
      'postgres://x@localhost/app',
      '[localhost/app]',
    );
    await refusal(() => guard(onDefault));
  });

  it('refuses the control database as a target, in any spelling', async () => {
    await refusal(() => guard(config('control: { url: postgres://x@staging-db:5432/app }')));
    const cfg = config(
      'control: { url: "postgres://x@127.1/app" }',
      'postgres://x@localhost/app',
      '[localhost/app]',
    );
    expect((await refusal(() => guard(cfg))).message).toContain('control database');
    const otherDb = config(
      'control: { url: "postgres://x@127.1/runs" }',
      'postgres://x@localhost/app',
      '[localhost/app]',
    );
    expect(await guard(otherDb)).toBe('localhost:5432/app');
  });

  it('refuses names whose __prev2 would not fit in 63 bytes', async () => {
    const name = 'a'.repeat(57); // a…a__prev2 is 64 bytes
    const cfg = config('', `postgres://x@h:5432/${name}`, `[h:5432/${name}]`);
    expect((await refusal(() => guard(cfg))).message).toContain('63 bytes');
  });

  it('accepts a name whose __prev2 is exactly 63 bytes', async () => {
    const name = 'a'.repeat(56);
    const cfg = config('', `postgres://x@h:5432/${name}`, `[h:5432/${name}]`);
    expect(await guard(cfg)).toBe(`h:5432/${name}`);
  });

  it('matches allow entries by identity, with default port and wildcard database', async () => {
    const target = parsePgUrl('postgres://x@Staging-DB/app');
    expect(await matchesAllow('staging-db/app', target)).toBe(true);
    expect(await matchesAllow('staging-db.:5432/*', target)).toBe(true);
    expect(await matchesAllow('staging-db:5433/app', target)).toBe(false);
    expect(await matchesAllow('staging-db:5432/ap', target)).toBe(false);
    expect(await matchesAllow('garbage', target)).toBe(false);
    const loopback = parsePgUrl('postgres://x@127.0.0.1/app');
    expect(await matchesAllow('localhost/app', loopback)).toBe(true);
    expect(await matchesAllow('127.1:5432/app', loopback)).toBe(true);
    const v6 = parsePgUrl('postgres://x@[::1]:5432/app');
    expect(await matchesAllow('[::1]:5432/app', v6)).toBe(true);
    expect(await matchesAllow('0:0:0:0:0:0:0:1/app', v6)).toBe(true);
    expect(await matchesAllow('[::1]:5433/app', v6)).toBe(false);
    const socket = parsePgUrl('postgres://x@/app?host=/run/postgresql');
    expect(await matchesAllow('/run/postgresql:5432/app', socket)).toBe(true);
    expect(await matchesAllow('/run/postgresql/app', socket)).toBe(true);
    expect(await matchesAllow('/tmp/app', socket)).toBe(false);
  });

  it('parses entries: host[:port][/db], bracketed and bare IPv6, socket directories', () => {
    expect(parseHostEntry('db:6432/app', true)).toEqual({ host: 'db', port: 6432, database: 'app' });
    expect(parseHostEntry('[::1]:6432', false)).toEqual({ host: '::1', port: 6432 });
    expect(parseHostEntry('fe80::1', false)).toEqual({ host: 'fe80::1', port: undefined });
    expect(parseHostEntry('/run/pg:5433/*', true)).toEqual({ host: '/run/pg', port: 5433, database: '*' });
    expect(parseHostEntry('a,b/app', true)).toBeUndefined();
  });
});

describe('host identity', () => {
  it('normalizes spellings of one address', () => {
    expect(normalizeHost('127.1')).toBe('127.0.0.1');
    expect(normalizeHost('0x7F.1')).toBe('127.0.0.1');
    expect(normalizeHost('Prod-DB.Internal.')).toBe('prod-db.internal');
    expect(normalizeHost('[0:0:0:0:0:0:0:1]')).toBe('::1');
    expect(canonicalAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(canonicalAddress('0:0:0:0:0:ffff:a01:203')).toBe('10.1.2.3');
    expect(normalizeHost('/run/postgresql/')).toBe('/run/postgresql');
  });

  it('resolves names through /etc/hosts the way the connection will', async () => {
    expect((await resolveEndpoint('LocalHost.')).addresses).toContain('127.0.0.1');
    expect((await resolveEndpoint('no-such-host.invalid')).addresses).toEqual([]);
  });
});

describe('target URL', () => {
  const refused = (url: string) => {
    try {
      parsePgUrl(url, {});
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(78);
      expect((error as Error).message).not.toContain('s3cret');
      return (error as Error).message;
    }
    throw new Error(`expected ${url} to be refused`);
  };

  it('folds host, port and dbname from the query string into the target', () => {
    expect(parsePgUrl('postgres://x@/app?host=/run/postgresql&port=5433', {})).toMatchObject({
      host: '/run/postgresql',
      port: 5433,
      database: 'app',
      params: {},
    });
    expect(parsePgUrl('postgres://x@db/?dbname=app&sslmode=require', {})).toMatchObject({
      host: 'db',
      database: 'app',
      params: { sslmode: 'require' },
    });
  });

  it('refuses parameters that could lead elsewhere, and parts named twice differently', () => {
    expect(refused('postgres://x:s3cret@staging/app?host=prod-db')).toContain('host twice');
    expect(refused('postgres://x:s3cret@staging/app?hostaddr=10.0.0.5')).toContain('"hostaddr"');
    expect(refused('postgres://x:s3cret@staging/app?service=prod')).toContain('"service"');
    expect(refused('postgres://x:s3cret@staging/app?options=-c%20x%3Dy')).toContain('"options"');
    expect(refused('postgres://x:s3cret@staging/app?dbname=prod')).toContain('dbname twice');
    expect(refused('postgres://x:s3cret@staging:5432/app?port=5433')).toContain('port twice');
    expect(refused('postgres://x:s3cret@a,b/app')).toContain('several hosts');
    expect(refused('postgres://x:s3cret@staging/app?host=a&host=b')).toContain('twice');
  });

  it('gives a tool that connects no inherited variable that picks another server', () => {
    const saved = { ...process.env };
    try {
      process.env.PGHOSTADDR = '10.9.9.9';
      process.env.PGSERVICE = 'prod';
      process.env.PGSSLROOTCERT = '/ca.pem';
      const env = toolEnv({ PGHOST: 'staging', PGPORT: '5432' });
      expect(env.PGHOSTADDR).toBeUndefined();
      expect(env.PGSERVICE).toBeUndefined();
      expect(env.PGHOST).toBe('staging');
      expect(env.PGSSLROOTCERT).toBe('/ca.pem');
      expect(toolEnv({ OTHER: '1' }).PGSERVICE).toBe('prod');
    } finally {
      process.env = saved;
    }
  });
});
