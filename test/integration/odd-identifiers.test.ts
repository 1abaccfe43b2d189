// Names real schemas have and naive code splits wrongly: a schema with a space, a schema with a
// dot, a table with quotes, a table with a dot, columns with a hyphen, a space and a dot. The whole
// run (restore, masking, migrations with their locks, verify and the leak check, the swap)
// works on them, from a custom and from a plain dump, and no original value is left anywhere. A
// unique e-mail column there holds the same mailboxes in other capitals: kept unique by re-keying.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { compileRule, parseRule } from '../../src/anonymize/strategies/registry.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  allDataText,
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
  CREATE SCHEMA "Sales EU";
  CREATE SCHEMA "ops.v2";
  CREATE TABLE "Sales EU"."order ""items""" (id bigint PRIMARY KEY, "e-mail" text NOT NULL, "Full Name" text, qty int);
  INSERT INTO "Sales EU"."order ""items"""
    SELECT g, 'buyer' || g || '@real-mail.example', 'Realname Buyer' || g, g % 7 FROM generate_series(1, 3000) g;
  CREATE TABLE "ops.v2".users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, phone text, "contact.phone" text);
  INSERT INTO "ops.v2".users
    SELECT g, 'opsuser' || g || '@real-mail.example', '+31 6 ' || lpad(g::text, 8, '0'), 'desk ' || g
      FROM generate_series(1, 1000) g;
  -- The same mailboxes again in capitals and with a space: the unique index (case-sensitive) takes
  -- them, the e-mail masker folds them onto the first ones' addresses, so they must be re-keyed.
  INSERT INTO "ops.v2".users
    SELECT 1000 + g, CASE WHEN g % 2 = 0 THEN 'OPSUSER' || g || '@REAL-MAIL.EXAMPLE' ELSE ' OpsUser' || g || '@Real-Mail.example' END,
           NULL, 'desk ' || g
      FROM generate_series(1, 300) g;
  CREATE TABLE public."users.archive" (id bigint PRIMARY KEY, email text);
  INSERT INTO public."users.archive" SELECT g, 'archived' || g || '@real-mail.example' FROM generate_series(1, 500) g;
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`;

const RULES = {
  secret: 'odd-names',
  tables: {
    '"Sales EU"."order ""items"""': { 'e-mail': 'email', 'Full Name': { fake: 'person.fullName' } },
    '"ops.v2".users': { email: 'email', phone: 'hash' },
    'public.users.archive': { email: 'hash' },
  },
  // a column with a dot, looked at and left as is (its name says phone; it holds desk numbers)
  keep: ['"ops.v2".users."contact.phone"'],
};

const MIGRATION = `
CREATE INDEX order_items_email ON "Sales EU"."order ""items""" ("e-mail");
ALTER TABLE "ops.v2".users ADD COLUMN note text;
UPDATE public."users.archive" SET email = lower(email) WHERE id < 10;
`;

describe('odd identifiers', () => {
  let dumps: string;
  beforeAll(async () => {
    cluster();
    dumps = await tempDir('odd-dumps');
    await makeDumps(dumps, PRODUCTION, { 'odd.dump': 'c', 'odd.sql': 'p' });
  });

  for (const file of ['odd.dump', 'odd.sql']) {
    it(`${file}: every step works on them and no original is left`, async () => {
      const dir = await tempDir('odd');
      const live = uniqueDb('odd');
      await mkdir(join(dir, 'migrations'));
      await writeFile(join(dir, 'migrations', '001_odd.sql'), MIGRATION);
      const { config } = await writeTestConfig(dir, live, {
        source: { local: { path: join(dir, 'backups', file.endsWith('.sql') ? '*.sql' : '*.dump') } },
        anonymize: RULES,
        migrations: { dir: join(dir, 'migrations') },
      });
      await mkdir(join(dir, 'backups'), { recursive: true });
      await copyFile(join(dumps, file), join(dir, 'backups', file));

      const record = await runRefresh(config, quiet);
      expect({ outcome: record.outcome, error: record.error?.message }).toEqual({
        outcome: 'succeeded',
        error: undefined,
      });
      expect(await databasesLike(live)).toContain(live);

      // Masked, every table, by its rule: no original e-mail, name or phone anywhere.
      const data = await allDataText(live);
      expect(data).not.toMatch(/real-mail\.example|Realname Buyer|\+31 6 /i);
      expect(record.anonymize?.tables.map((table) => [table.name, table.rows])).toEqual([
        ['"ops.v2".users', 1300],
        ['public.users.archive', 500],
        ['Sales EU.order "items"', 3000],
      ]);

      // The unique e-mail column: 1,300 distinct addresses; the first of each mailbox in the stream
      // (the lower-case rows) keeps the plain mapping, so it still joins with other tables.
      const emails = await sql<{ id: string; email: string }>(
        live,
        'SELECT id, email FROM "ops.v2".users ORDER BY id',
      );
      expect(new Set(emails.map((row) => row.email)).size).toBe(1300);
      const email = compileRule(parseRule('email'), {
        prf: new KeyedPrf('odd-names'),
        type: 'text',
        domain: 'example.invalid',
      });
      for (const row of emails.slice(0, 1000))
        expect(row.email).toBe(email(`opsuser${row.id}@real-mail.example`, () => null));
      for (const row of emails.slice(1000))
        expect(row.email).not.toBe(email(`opsuser${Number(row.id) - 1000}@real-mail.example`, () => null));

      // The migration ran, and its locks name the relations as they are.
      const [migration] = record.migrations;
      expect(migration?.error).toBeUndefined();
      const relations = migration?.locks.map((lock) => lock.relation) ?? [];
      expect(relations).toContain('Sales EU.order "items"');
      expect(relations).toContain('"ops.v2".users');
      expect(
        await sql(live, `SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'order_items_email'`),
      ).toEqual([{ n: 1 }]);

      // Verify, the leak check included, ran on each masked table and passed.
      const checks = record.verify?.checks ?? [];
      expect(checks.filter((check) => check.status === 'failed')).toEqual([]);
      for (const name of [
        'no-leak:"ops.v2".users.email',
        'no-leak:Sales EU.order "items".e-mail',
        'no-leak:public.users.archive.email',
      ])
        expect(checks.map((check) => check.name)).toContain(name);
    });
  }
});
