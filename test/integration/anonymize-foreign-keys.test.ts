// Foreign keys meet the rules before any row is written: PostgreSQL checks them only when the
// post-data section adds them, after every row is in — a key masked on one side and not the other,
// or a truncated table still referenced, would fail the run there. Refused up front, naming the
// key and the rule that fits; with the rules fixed, the keys hold in staging.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  cluster,
  databasesLike,
  makeDumps,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const PRODUCTION = `
  CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL UNIQUE, handle text UNIQUE);
  INSERT INTO accounts SELECT g, 'person' || g || '@real-mail.example', 'handle_' || g FROM generate_series(1, 200) g;
  CREATE TABLE invites (id int PRIMARY KEY, inviter_email text REFERENCES accounts (email), kind text);
  INSERT INTO invites SELECT g, 'person' || (1 + g % 200) || '@real-mail.example', 'n' FROM generate_series(1, 300) g;
  CREATE TABLE follows ("Handle" text REFERENCES accounts (handle), since date);
  INSERT INTO follows SELECT 'handle_' || (1 + g % 200), date '2024-01-01' + g FROM generate_series(1, 100) g;
  CREATE TABLE tokens (id int PRIMARY KEY, account_id int REFERENCES accounts (id));
  INSERT INTO tokens SELECT g, g FROM generate_series(1, 50) g;
  CREATE TABLE token_uses (token_id int REFERENCES tokens (id), at date);
  INSERT INTO token_uses SELECT 1 + g % 50, date '2024-01-01' + g FROM generate_series(1, 80) g;
  -- NOT VALID: never checked against the rows, so not held against the rules
  CREATE TABLE old_invites (inviter_email text);
  INSERT INTO old_invites VALUES ('nobody@real-mail.example');
  ALTER TABLE old_invites ADD CONSTRAINT old_invites_fkey FOREIGN KEY (inviter_email) REFERENCES accounts (email) NOT VALID;`;

const rules = (overrides: Record<string, unknown>, keep: string[] = []) => ({
  secret: 'fk-secret',
  keep,
  tables: {
    'public.accounts': { email: 'email', handle: 'hash' },
    'public.invites': { inviter_email: 'email' },
    'public.follows': { Handle: 'hash' },
    'public.tokens': 'truncate',
    'public.token_uses': 'truncate',
    'public.old_invites': { inviter_email: 'null' },
    ...overrides,
  },
});

/** Rules that only truncate tokens; what the PII gate would stop on, looked at and kept. */
const TRUNCATE_ONLY = {
  secret: 'fk-secret',
  tables: { 'public.tokens': 'truncate' },
  keep: [
    'public.accounts.email',
    'public.accounts.handle',
    'public.invites.inviter_email',
    'public.follows.Handle',
    'public.old_invites.inviter_email',
  ],
};

describe.each([
  ['a custom archive', 'prod.dump', 'c'],
  ['a plain dump', 'prod.sql', 'p'],
] as const)('rules and foreign keys, in %s', (_, file, format) => {
  let dumps: string;
  beforeAll(async () => {
    cluster();
    dumps = await tempDir('fk-dump');
    await makeDumps(dumps, PRODUCTION, { [file]: format });
  });
  /** A run's config in `dir` restoring the dump, with these rules. */
  const configFor = async (dir: string, live: string, anonymize: Record<string, unknown>) => {
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
      anonymize,
    });
    await copyFile(join(dumps, file), join(dir, 'backups', file));
    return config;
  };

  it('refuses keys masked differently on their two sides, and a truncated table still referenced, before any row', async () => {
    const dir = await tempDir('fk-bad');
    const live = uniqueDb('fk_bad');
    const config = await configFor(
      dir,
      live,
      rules(
        {
          'public.invites': { inviter_email: 'hash' },
          'public.follows': undefined,
          'public.token_uses': undefined,
          'public.old_invites': { inviter_email: 'hash' },
        },
        ['public.follows.Handle'],
      ),
    );
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    const problems = (record.error?.message ?? '').split('\n  - ').slice(1);
    expect(problems).toHaveLength(3);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^anonymize\.tables\.public\.invites\.inviter_email \(hash.*\): it references public\.accounts\.email \(foreign key invites_inviter_email_fkey\), masked by email — .*; rule it the same way: inviter_email: email$/,
      ),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^anonymize\.tables\.public\.follows\.Handle \(none\): it references public\.accounts\.handle \(foreign key follows_Handle_fkey\), masked by hash.*rule it the same way: Handle: hash$/,
      ),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^anonymize\.tables\.public\.tokens \(truncate\): public\.token_uses references it \(foreign key token_uses_token_id_fkey on token_id\) and keeps its rows/,
      ),
    );
    expect(await databasesLike(live)).toEqual([]);
  });

  it('refuses truncating a table still referenced when the rules only truncate', async () => {
    const dir = await tempDir('fk-truncate-only');
    const live = uniqueDb('fk_truncate_only');
    const config = await configFor(dir, live, TRUNCATE_ONLY);
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    const problems = (record.error?.message ?? '').split('\n  - ').slice(1);
    expect(problems).toEqual([
      expect.stringMatching(
        /^anonymize\.tables\.public\.tokens \(truncate\): public\.token_uses references it \(foreign key token_uses_token_id_fkey on token_id\) and keeps its rows/,
      ),
    ]);
    expect(await databasesLike(live)).toEqual([]);
  });

  it('truncates a table whose referencing rows the dump left out (--exclude-table-data), and the key holds', async () => {
    const dir = await tempDir('fk-excluded');
    const live = uniqueDb('fk_excluded');
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
      anonymize: { ...TRUNCATE_ONLY, tables: { 'public.tokens': 'truncate' } },
    });
    await makeDumps(join(dir, 'backups'), PRODUCTION, { [file]: format }, undefined, [
      '--exclude-table-data=token_uses',
    ]);
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(
      await sql(
        live,
        `SELECT (SELECT count(*) FROM tokens)::int AS tokens, (SELECT count(*) FROM token_uses)::int AS uses,
                (SELECT convalidated FROM pg_constraint WHERE conname = 'token_uses_token_id_fkey') AS valid`,
      ),
    ).toEqual([{ tokens: 0, uses: 0, valid: true }]);
  });

  it('restores with the rules fixed: masked keys still meet, and every foreign key is in staging', async () => {
    const dir = await tempDir('fk-good');
    const live = uniqueDb('fk_good');
    const config = await configFor(dir, live, rules({}));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');
    expect(
      await sql(
        live,
        `SELECT conname AS name, convalidated AS valid FROM pg_constraint WHERE contype = 'f' ORDER BY conname`,
      ),
    ).toEqual([
      { name: 'follows_Handle_fkey', valid: true },
      { name: 'invites_inviter_email_fkey', valid: true },
      { name: 'old_invites_fkey', valid: false },
      { name: 'token_uses_token_id_fkey', valid: true },
      { name: 'tokens_account_id_fkey', valid: true },
    ]);
    expect(
      await sql(
        live,
        `SELECT count(*)::int AS n FROM invites i JOIN accounts a ON a.email = i.inviter_email
          WHERE a.email NOT LIKE '%real-mail%'`,
      ),
    ).toEqual([{ n: 300 }]);
  });
});
