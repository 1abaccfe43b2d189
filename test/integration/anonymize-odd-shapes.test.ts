// The checks on partitions, foreign keys and inheritance, under names that need quotes: a schema
// with a dot, tables with a space, a dot and double quotes, columns with a dot, a hyphen and a
// space. Each check reads its names from the catalog or the dump (pg_depend's key columns, the
// keys' DDL in post-data, COPY statements) and must meet the config's spelling of the same table.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
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
  CREATE SCHEMA "Sales.EU";
  CREATE TABLE "Sales.EU"."Visit Log" ("Id" bigint, "Seen.At" date NOT NULL, "E-mail" text, region text)
    PARTITION BY RANGE ("Seen.At");
  CREATE TABLE "Sales.EU"."Visit Log.2023" PARTITION OF "Sales.EU"."Visit Log"
    FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
  CREATE TABLE "Sales.EU"."Visit ""Log"" 2024" PARTITION OF "Sales.EU"."Visit Log"
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  INSERT INTO "Sales.EU"."Visit Log"
    SELECT g, date '2023-06-01' + (g % 400), 'Visitor' || g || '@Real-Mail.example', 'eu' FROM generate_series(1, 800) g;
  CREATE TABLE "Sales.EU"."Account ""Main""" ("Id" int PRIMARY KEY, "E-mail" text NOT NULL UNIQUE);
  INSERT INTO "Sales.EU"."Account ""Main"""
    SELECT g, 'member' || g || '@real-mail.example' FROM generate_series(1, 200) g;
  CREATE TABLE "Sales.EU"."invite.rows" ("Id" int, "Inviter E-mail" text REFERENCES "Sales.EU"."Account ""Main""" ("E-mail"));
  INSERT INTO "Sales.EU"."invite.rows"
    SELECT g, 'member' || (1 + g % 200) || '@real-mail.example' FROM generate_series(1, 300) g;
  CREATE TABLE "Sales.EU"."Person.Base" ("Id" int, "E-mail" text);
  CREATE TABLE "Sales.EU"."Staff ""Child""" (badge text) INHERITS ("Sales.EU"."Person.Base");
  INSERT INTO "Sales.EU"."Person.Base" SELECT g, 'person' || g || '@real-mail.example' FROM generate_series(1, 50) g;
  INSERT INTO "Sales.EU"."Staff ""Child"""
    SELECT 100 + g, 'staffer' || g || '@real-mail.example', 'b' || g FROM generate_series(1, 70) g;`;

const VISITS = '"Sales.EU"."Visit Log"';
const ACCOUNTS = '"Sales.EU"."Account ""Main"""';
const INVITES = '"Sales.EU"."invite.rows"';
const PEOPLE = '"Sales.EU"."Person.Base"';

describe.each([
  ['a custom archive', 'odd.dump', 'c'],
  ['a plain dump', 'odd.sql', 'p'],
] as const)('partitions, foreign keys and inheritance under odd names, in %s', (_, file, format) => {
  let dumps: string;
  beforeAll(async () => {
    cluster();
    dumps = await tempDir('odd-shapes-dump');
    await makeDumps(dumps, PRODUCTION, { [file]: format });
  });
  const configFor = async (name: string, tables: Record<string, unknown>) => {
    const dir = await tempDir(name);
    const live = uniqueDb(name.replace(/-/g, '_'));
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
      anonymize: { secret: 'odd-shapes', tables },
    });
    await copyFile(join(dumps, file), join(dir, 'backups', file));
    return { config, live };
  };

  it('refuses a rule on the partition key and a key masked on one side only, naming them as the config does', async () => {
    const { config, live } = await configFor('odd-shapes-bad', {
      [VISITS]: { 'Seen.At': { shift: '30d' }, 'E-mail': 'email' },
      [ACCOUNTS]: { 'E-mail': 'email' },
      [INVITES]: { 'Inviter E-mail': 'hash' },
      [PEOPLE]: { 'E-mail': 'email' },
    });
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    const problems = (record.error?.message ?? '').split('\n  - ').slice(1);
    // the foreign key, its two sides named as the config names them
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^anonymize\.tables\."Sales\.EU"\.invite\.rows\.Inviter E-mail \(hash\): it references "Sales\.EU"\.Account "Main"\.E-mail \(foreign key .*\), masked by email .*rule it the same way: Inviter E-mail: email$/,
      ),
    );
    // the key of the partitioned table, as PostgreSQL writes it, the rule as the config spells it
    // (a plain dump stops at its first ruled table's COPY, where the foreign key is judged: each
    // partition's key is judged at that partition's COPY, where the dump says whether it loads
    // through the root)
    if (format === 'c')
      expect(problems).toContainEqual(
        expect.stringMatching(
          /^"Sales\.EU"\.Visit Log\."Seen\.At" \(\{ shift: 30d \}\): the rule on this column writes the partition key of "Sales\.EU"\.Visit Log \(PARTITION BY RANGE \("Seen\.At"\)\) — pg_dump writes the rows into each partition itself \("Sales\.EU"\.Visit "Log" 2024, "Sales\.EU"\.Visit Log\.2023\)/,
        ),
      );
    if (format === 'c') expect(problems).toHaveLength(2);
    expect(await databasesLike(live)).toEqual([]);
  });

  it('masks every partition, both sides of the key and the inheriting table, and the key holds in staging', async () => {
    const { config, live } = await configFor('odd-shapes-good', {
      [VISITS]: { 'E-mail': 'email' },
      [ACCOUNTS]: { 'E-mail': 'email' },
      [INVITES]: { 'Inviter E-mail': 'email' },
      [PEOPLE]: { 'E-mail': 'email' },
    });
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');
    expect(await allDataText(live)).not.toMatch(/real-mail\.example/i);
    expect(
      await sql(
        live,
        `SELECT tableoid::regclass::text AS part, count(*)::int AS n,
                count(*) FILTER (WHERE "E-mail" LIKE 'u\\_%@example.invalid')::int AS masked
           FROM "Sales.EU"."Visit Log" GROUP BY 1 ORDER BY tableoid::regclass::text COLLATE "C"`,
      ),
    ).toEqual([
      { part: '"Sales.EU"."Visit ""Log"" 2024"', n: 372, masked: 372 },
      { part: '"Sales.EU"."Visit Log.2023"', n: 428, masked: 428 },
    ]);
    // the child of the inheriting table got its parent's rule; its own column is kept
    expect(
      await sql(
        live,
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE "E-mail" LIKE 'u\\_%')::int AS masked,
                count(*) FILTER (WHERE badge LIKE 'b%')::int AS badges
           FROM ONLY "Sales.EU"."Staff ""Child"""`,
      ),
    ).toEqual([{ n: 70, masked: 70, badges: 70 }]);
    expect(
      await sql(
        live,
        `SELECT count(*)::int AS n FROM "Sales.EU"."invite.rows" i
           JOIN "Sales.EU"."Account ""Main""" a ON a."E-mail" = i."Inviter E-mail"`,
      ),
    ).toEqual([{ n: 300 }]);
    expect(await sql(live, `SELECT convalidated AS valid FROM pg_constraint WHERE contype = 'f'`)).toEqual([
      { valid: true },
    ]);
  });
});
