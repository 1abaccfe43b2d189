// `pg_restore --list` prints an entry's schema, name and owner separated by spaces and quotes none:
// `public users app owner` is table users owned by "app owner", or table "users app" owned by
// "owner". Read the second way, the masked table's rows also went through pg_restore's own data
// pass — unmasked, beside the masked stream — and the run failed on a duplicated primary key,
// blaming the rule. The archive's binary TOC (custom, directory and tar formats) says which.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  allDataText,
  cluster,
  makeDumps,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const PRODUCTION = `
  DO $$ BEGIN CREATE ROLE "app owner"; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
  CREATE SCHEMA "Sales EU";
  CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE);
  INSERT INTO users SELECT g, 'person' || g || '@real-mail.example' FROM generate_series(1, 60) g;
  ALTER TABLE users OWNER TO "app owner";
  CREATE TABLE "Sales EU"."order lines" (id int PRIMARY KEY, buyer_email text);
  INSERT INTO "Sales EU"."order lines" SELECT g, 'buyer' || g || '@real-mail.example' FROM generate_series(1, 40) g;
  ALTER TABLE "Sales EU"."order lines" OWNER TO "app owner";
  CREATE TABLE cities (id int PRIMARY KEY, city text);
  INSERT INTO cities VALUES (1, 'Lyon'), (2, 'Porto');
  ALTER TABLE cities OWNER TO "app owner";`;

describe.each([
  ['a custom archive', 'owned.dump', 'c'],
  ['a tar archive', 'owned.tar', 't'],
] as const)('tables owned by a role whose name has a space, in %s', (_, file, format) => {
  let dumps: string;
  beforeAll(async () => {
    cluster();
    dumps = await tempDir('owner-names-dump');
    await makeDumps(dumps, PRODUCTION, { [file]: format });
  });

  it('masks the ruled tables in the stream only, and restores the others as pg_restore does', async () => {
    const dir = await tempDir(`owner-names-${format}`);
    const live = uniqueDb(`owner_names_${format}`);
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
      anonymize: {
        secret: 'owner-names',
        tables: { users: { email: 'email' }, '"Sales EU"."order lines"': { buyer_email: 'email' } },
      },
    });
    await copyFile(join(dumps, file), join(dir, 'backups', file));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');
    expect(record.anonymize?.tables.map((table) => [table.name, table.rows]).sort()).toEqual([
      ['Sales EU.order lines', 40],
      ['public.users', 60],
    ]);
    const counts = await sql<{ users: number; lines: number; cities: number }>(
      live,
      `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM "Sales EU"."order lines") AS lines,
              (SELECT count(*)::int FROM cities) AS cities`,
    );
    expect(counts[0]).toEqual({ users: 60, lines: 40, cities: 2 });
    expect(await allDataText(live)).not.toContain('@real-mail.example');
  });
});
