// Anonymization in the restore stream, against a real dump: no original PII anywhere in the new
// live database (a full scan of its pg_dump), joins on masked e-mails still match, unique indexes
// build, and the masked tables saw no UPDATE (masking happened in the stream).
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  allDataText,
  cluster,
  databasesLike,
  makeDump,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const PRODUCTION = `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, full_name text NOT NULL, phone text,
                      birth_date date, country text NOT NULL, profile jsonb, notes text);
  CREATE TABLE newsletter (id serial PRIMARY KEY, email text NOT NULL, subscribed_at timestamptz NOT NULL);
  CREATE TABLE payments (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), card_number text, amount numeric(10,2));
  CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint NOT NULL, token text NOT NULL);
  INSERT INTO users SELECT g, 'Person.' || g || '@Real-Mail.example', 'Real Name ' || g, '+31 6 ' || lpad(g::text, 8, '0'),
         date '1980-01-01' + g, 'NL', jsonb_build_object('address', jsonb_build_object('street', g || ' Real Street'), 'vip', g % 2 = 0),
         E'line one\\ttab\\nline two ' || g
    FROM generate_series(1, 3000) g;
  INSERT INTO newsletter (email, subscribed_at) SELECT 'Person.' || g || '@Real-Mail.example', now() FROM generate_series(1, 3000, 3) g;
  INSERT INTO payments SELECT g, 1 + g % 3000, '4111 1111 1111 ' || lpad((g % 10000)::text, 4, '0'), g FROM generate_series(1, 6000) g;
  INSERT INTO sessions SELECT g, 1 + g % 3000, md5(g::text) FROM generate_series(1, 5000) g;`;

const RULES = {
  secret: 'test-secret',
  keep: ['public.users.country', 'public.users.notes'],
  tables: {
    'public.users': {
      email: 'email',
      full_name: { fake: 'person.fullName' },
      phone: { mask: { keepLast: 2 } },
      birth_date: { shift: '30d' },
      profile: { json: { '$.address.street': { fake: 'location.streetAddress' } } },
    },
    'public.newsletter': { email: 'email' },
    'public.payments': { card_number: { mask: { keepLast: 4 } } },
    'public.sessions': 'truncate',
  },
};

describe('anonymization in the restore stream', () => {
  let dump: string;
  beforeAll(async () => {
    cluster();
    dump = await makeDump(join(await tempDir('anon-dump'), 'prod.dump'), PRODUCTION);
  });

  it('leaves no original PII anywhere, keeps joins and unique indexes, and never UPDATEs', async () => {
    const dir = await tempDir('anon');
    const live = uniqueDb('anon');
    const { config } = await writeTestConfig(dir, live, { anonymize: RULES });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');

    const everything = await allDataText(live);
    for (const original of [
      '@Real-Mail.example',
      'Real Name 17',
      '+31 6 00000017',
      'Real Street',
      '4111 1111 1111 0017',
    ]) {
      expect(everything).not.toContain(original);
    }
    expect(await sql(live, 'SELECT count(*)::int AS n FROM sessions')).toEqual([{ n: 0 }]);
    expect(
      await sql(live, `SELECT count(*)::int AS n FROM users WHERE email LIKE 'u\\_%@example.invalid'`),
    ).toEqual([{ n: 3000 }]);
    expect(await sql(live, 'SELECT count(*)::int AS n FROM newsletter JOIN users USING (email)')).toEqual([
      { n: 1000 },
    ]);
    expect(
      await sql(live, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_key'::regclass`),
    ).toEqual([{ indisvalid: true }]);
    expect(
      await sql(live, `SELECT count(*)::int AS n FROM payments WHERE card_number ~ '^\\*{15}\\d{4}$'`),
    ).toEqual([{ n: 6000 }]);
    expect(await sql(live, `SELECT country, notes FROM users WHERE id = 7`)).toEqual([
      { country: 'NL', notes: 'line one\ttab\nline two 7' },
    ]);
    expect(
      await sql(
        live,
        `SELECT (profile->>'vip')::boolean AS vip, profile->'address'->>'street' <> '7 Real Street' AS masked FROM users WHERE id = 7`,
      ),
    ).toEqual([{ vip: false, masked: true }]);
    const shifted = await sql<{ days: number }>(
      live,
      `SELECT abs(birth_date - (date '1980-01-01' + id::int))::int AS days FROM users`,
    );
    expect(shifted.every((row) => row.days >= 1 && row.days <= 30)).toBe(true);
    const updates = await sql<{ relname: string; n_tup_upd: string; n_tup_ins: string }>(
      live,
      `SELECT relname, n_tup_upd, n_tup_ins FROM pg_stat_user_tables WHERE relname IN ('users', 'newsletter', 'payments') ORDER BY relname`,
    );
    expect(updates.map((row) => [row.relname, Number(row.n_tup_upd)])).toEqual([
      ['newsletter', 0],
      ['payments', 0],
      ['users', 0],
    ]);
    // Loaded with COPY FREEZE after a TRUNCATE in the same transaction: every page that holds rows
    // is all-visible (PostgreSQL 16 and later extend a table many pages at a time, and the empty
    // pages at its end are not).
    const visibility = [];
    for (const table of ['newsletter', 'payments', 'users']) {
      const [row] = await sql<{ visible: boolean }>(
        live,
        `SELECT relallvisible > 0 AND relallvisible = (SELECT count(DISTINCT (ctid::text::point)[0]) FROM ${table}) AS visible
           FROM pg_class WHERE oid = $1::regclass`,
        [table],
      );
      visibility.push({ relname: table, visible: row?.visible });
    }
    expect(visibility.map((row) => [row.relname, row.visible])).toEqual([
      ['newsletter', true],
      ['payments', true],
      ['users', true],
    ]);
    expect(record.anonymize?.tables.map((t) => [t.name, t.rows])).toEqual([
      ['public.newsletter', 1000],
      ['public.payments', 6000],
      ['public.sessions', 0],
      ['public.users', 3000],
    ]);
    // row-aligned: shift is checked too (a shifted date never equals its own row's original)
    const leakChecks = record.verify.checks.filter((c) => c.name.startsWith('no-leak:'));
    expect(leakChecks.map((c) => c.status)).toEqual(Array(7).fill('passed'));
    expect(leakChecks.map((c) => c.name)).toContain('no-leak:public.users.birth_date');

    // Deterministic: a second run with the same secret gives the same masked values.
    const before = await sql(live, 'SELECT id, email, full_name, phone FROM users ORDER BY id LIMIT 20');
    expect((await runRefresh(config, quiet)).outcome).toBe('succeeded');
    expect(await sql(live, 'SELECT id, email, full_name, phone FROM users ORDER BY id LIMIT 20')).toEqual(
      before,
    );
  });

  it('a likely-PII column without a rule stops the run with exit 78 before any data is restored', async () => {
    const dir = await tempDir('anon-gate');
    const live = uniqueDb('gate');
    const { config } = await writeTestConfig(dir, live, {
      anonymize: { ...RULES, tables: { ...RULES.tables, 'public.payments': {} } },
    });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    expect(record.error?.step).toBe('restore');
    expect(record.error?.message).toContain(
      'public.payments.card_number looks like a card number and has no rule',
    );
    expect(await databasesLike(live)).toEqual([]);
  });

  it('a rule naming a missing column stops the run with exit 78 naming the rule', async () => {
    const dir = await tempDir('anon-missing');
    const { config } = await writeTestConfig(dir, uniqueDb('missing'), {
      anonymize: {
        ...RULES,
        tables: { ...RULES.tables, 'public.users': { ...RULES.tables['public.users'], nickname: 'null' } },
      },
    });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    expect(record.error?.message).toContain(
      'anonymize.tables.public.users.nickname: public.users has no column "nickname"',
    );
  });
});
