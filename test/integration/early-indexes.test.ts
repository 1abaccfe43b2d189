// A table's indexes and keys are built as soon as its rows are in, while other tables are still
// masked; foreign keys, partitioned tables' indexes and materialized views' wait for the post-data
// pass. Whatever was built when, the new database has exactly the production's indexes and
// constraints (CLUSTER ON and REPLICA IDENTITY too).
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  databasesLike,
  makeDumps,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const PRODUCTION = `
  CREATE SCHEMA "odd.schema";
  CREATE TABLE "odd.schema"."Odd Table" (id int PRIMARY KEY, "E-Mail" text UNIQUE, during tsrange,
    EXCLUDE USING gist (during WITH &&));
  INSERT INTO "odd.schema"."Odd Table"
    SELECT g, 'odd' || g || '@real-mail.example', tsrange(timestamp '2024-01-01' + g * interval '1 day',
           timestamp '2024-01-01' + g * interval '1 day' + interval '1 hour')
      FROM generate_series(1, 300) g;
  CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text);
  CREATE UNIQUE INDEX accounts_lower_email ON accounts (lower(email));
  CREATE INDEX accounts_name ON accounts (name) WHERE name IS NOT NULL;
  ALTER TABLE accounts CLUSTER ON accounts_pkey;
  ALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_email_key;
  INSERT INTO accounts SELECT g, 'Person' || g || '@Real-Mail.example', 'Realname ' || g FROM generate_series(1, 2000) g;
  CREATE TABLE notes (id int PRIMARY KEY, account_id int REFERENCES accounts (id), body text);
  CREATE INDEX notes_account ON notes (account_id);
  INSERT INTO notes SELECT g, 1 + g % 2000, 'note ' || g FROM generate_series(1, 5000) g;
  CREATE TABLE tokens (id int PRIMARY KEY, token text);
  INSERT INTO tokens SELECT g, md5(g::text) FROM generate_series(1, 100) g;
  CREATE TABLE events (id int, at date, email text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
  CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE INDEX events_email ON events (email);
  INSERT INTO events SELECT g, date '2024-01-01' + g % 700, 'ev' || g || '@real-mail.example' FROM generate_series(1, 1000) g;
  CREATE MATERIALIZED VIEW account_ids AS SELECT id FROM accounts;
  CREATE UNIQUE INDEX account_ids_id ON account_ids (id);`;

/** Every index (with CLUSTER ON / REPLICA IDENTITY), constraint and index attachment of a database. */
const STRUCTURE = `
  SELECT format('%s: %s%s%s', i.indrelid::regclass, pg_get_indexdef(i.indexrelid),
                CASE WHEN i.indisclustered THEN ' [clustered]' ELSE '' END,
                CASE WHEN i.indisreplident THEN ' [replica identity]' ELSE '' END) AS item
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT format('%s: %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE conrelid <> 0 AND connamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT format('%s attached to %s', inhrelid::regclass, inhparent::regclass)
    FROM pg_inherits WHERE inhrelid IN (SELECT oid FROM pg_class WHERE relkind IN ('i', 'I'))
  ORDER BY 1`;

describe('indexes built as tables finish loading', () => {
  let dir: string;
  let production: string[];
  beforeAll(async () => {
    dir = await tempDir('early-indexes');
    await mkdir(join(dir, 'backups'));
    await makeDumps(join(dir, 'backups'), PRODUCTION, { 'prod.dump': 'c' }, async (database) => {
      production = (await sql<{ item: string }>(database, STRUCTURE)).map((row) => row.item);
    });
  });

  it('builds plain tables’ indexes and keys early, the rest after, and ends with the production’s structure', async () => {
    const live = uniqueDb('early_indexes');
    const { config } = await writeTestConfig(dir, live, {
      anonymize: {
        secret: 'early-secret',
        unknownPii: 'warn',
        tables: {
          'public.accounts': { email: 'email', name: { fake: 'person.fullName' } },
          '"odd.schema"."Odd Table"': { 'E-Mail': 'email' },
          'public.events': { email: 'email' },
          'public.tokens': 'truncate',
        },
      },
    });
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');
    // accounts (4: pkey, email key, lower(email), partial name index), "Odd Table" (3: pkey, key,
    // exclusion), notes (2) and the truncated tokens (1); not the partitioned events' indexes, not
    // the materialized view's, not the foreign key.
    expect(record.restore?.earlyIndexes).toMatchObject({ tables: 4, entries: 10 });
    const staging = (await sql<{ item: string }>(live, STRUCTURE)).map((row) => row.item);
    expect(production.length).toBeGreaterThan(15);
    expect(staging).toEqual(production);
    expect(staging.join('\n')).toContain('notes_account_id_fkey FOREIGN KEY');
    expect(staging.join('\n')).toContain('[replica identity]');
    expect((await sql(live, 'SELECT count(*)::int AS n FROM account_ids'))[0]?.n).toBe(2000);
    // the -L lists (of the early builds too) went with the run's own directory
    expect(await readdir(config.workDir)).toEqual([]);
  });

  it('stops the run cleanly when an early build fails while other tables still stream', async () => {
    const failing = await tempDir('early-indexes-failing');
    await mkdir(join(failing, 'backups'));
    // Masking phone keeps its last two digits: (phone, region) repeats after 100 rows, and the
    // unique constraint over both is built as soon as contacts is in — while big_log streams.
    await makeDumps(
      join(failing, 'backups'),
      `CREATE TABLE contacts (id int PRIMARY KEY, phone text NOT NULL, region int NOT NULL, UNIQUE (phone, region));
       INSERT INTO contacts SELECT g, '+31 6 ' || lpad(g::text, 8, '0'), 1 FROM generate_series(1, 3000) g;
       CREATE TABLE big_log (id bigint PRIMARY KEY, email text);
       INSERT INTO big_log SELECT g, 'someone' || g || '@real-mail.example' FROM generate_series(1, 300000) g;`,
      { 'prod.dump': 'c' },
    );
    const live = uniqueDb('early_failing');
    const { config } = await writeTestConfig(failing, live, {
      anonymize: {
        secret: 'early-secret',
        unknownPii: 'warn',
        tables: {
          'public.contacts': { phone: { mask: { keepLast: 2 } } },
          'public.big_log': { email: 'email' },
        },
      },
    });
    const record = await runRefresh(config, quiet);
    expect(record.outcome).toBe('failed');
    expect(record.exitCode).not.toBe(0);
    expect(record.error?.step).toBe('restore');
    expect(JSON.stringify(record.error)).toContain('contacts_phone_region_key');
    // nothing half-built stays behind, and the live database was never touched
    expect(await databasesLike(live)).toEqual([]);
  });
});
