// Anonymization on the awkward but common shapes of real schemas: a partitioned table ruled on
// its parent, CHECK constraints and domains, unique keys, varchar lengths, generated columns.
// Each shape is either masked with zero originals left (a full scan of the live database's
// pg_dump) or refused before any row is written, with an error naming the column.
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import {
  allDataText,
  cluster,
  databasesLike,
  makeDump,
  makeDumps,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const PRODUCTION = `
  CREATE DOMAIN us_zip AS text CHECK (VALUE ~ '^[0-9]{5}$');
  CREATE TABLE events (id bigint, at date NOT NULL, email text NOT NULL, note text) PARTITION BY RANGE (at);
  CREATE TABLE events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
  CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  INSERT INTO events SELECT g, date '2023-01-01' + (g % 700), 'Event.Person' || g || '@Real-Mail.example', 'n' || g
    FROM generate_series(1, 2000) g;
  CREATE TABLE customers (
    id int PRIMARY KEY,
    phone text NOT NULL UNIQUE,
    code text NOT NULL CHECK (code ~ '^[A-Z]{2}-[0-9]+$'),
    zip us_zip,
    short_mail varchar(12),
    first_name text NOT NULL,
    last_name text,
    full_name text GENERATED ALWAYS AS (first_name || ' ' || coalesce(last_name, '')) STORED);
  INSERT INTO customers (id, phone, code, zip, short_mail, first_name, last_name)
    SELECT g, '+31 6 ' || lpad(g::text, 8, '0'), 'NL-' || g, lpad((10000 + g)::text, 5, '0'), 'c' || g || '@x.nl',
           'Realfirst' || g, 'Reallast' || g
      FROM generate_series(1, 500) g;
  CREATE TABLE subscribers (email text PRIMARY KEY, since date);
  INSERT INTO subscribers SELECT 'Sub' || g || '@Real-Mail.example', date '2020-01-01' + g FROM generate_series(1, 300) g;
  INSERT INTO subscribers SELECT 'sub' || g || '@real-mail.example', date '2021-01-01' + g FROM generate_series(1, 300, 3) g;`;

const GOOD = {
  secret: 'shapes-secret',
  tables: {
    'public.events': { email: 'email', note: 'null' },
    'public.customers': {
      phone: 'hash',
      code: { mask: { keepFirst: 3, char: '0' } },
      zip: { mask: { char: '0' } },
      short_mail: { hash: { length: 10 } },
      first_name: { fake: 'person.firstName' },
      last_name: { fake: 'person.lastName' },
    },
    // the e-mail masker lowercases: the case variants of this primary key would collide
    'public.subscribers': { email: 'email' },
  },
};

const BAD = {
  secret: 'shapes-secret',
  tables: {
    'public.events': { email: 'null', note: 'null' },
    'public.customers': {
      phone: { mask: { keepLast: 2 } },
      code: { mask: { keepLast: 2 } },
      zip: { fake: 'location.city' },
      short_mail: 'email',
      first_name: { fake: 'person.firstName' },
      last_name: { fake: 'person.lastName' },
      full_name: { fake: 'person.fullName' },
    },
    'public.subscribers': { email: 'email' },
  },
};

describe('anonymization on real schema shapes', () => {
  let dump: string;
  beforeAll(async () => {
    cluster();
    dump = await makeDump(join(await tempDir('shapes-dump'), 'prod.dump'), PRODUCTION);
  });

  it('refuses rules that do not fit their columns before any row is written, naming each column and constraint', async () => {
    const dir = await tempDir('shapes-bad');
    const live = uniqueDb('shapes_bad');
    const { config } = await writeTestConfig(dir, live, { anonymize: BAD });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.error?.message).toContain('do not fit');
    expect(record.exitCode).toBe(78);
    const message = record.error?.message ?? '';
    // the parent's rule reached every partition, and NOT NULL is judged there
    expect(message).toMatch(
      /anonymize\.tables\.public\.events_2023\.email \(.*null.*\): the column is NOT NULL/,
    );
    expect(message).toMatch(
      /public\.customers\.phone .*unique index.*\(unique customers_phone_key\) — a rule that fits: phone: hash/,
    );
    expect(message).toMatch(
      /public\.customers\.code .*violate CHECK constraint customers_code_check.* — a rule that fits: code: \{ mask/,
    );
    expect(message).toMatch(/public\.customers\.zip .*domain us_zip/);
    expect(message).toMatch(/public\.customers\.short_mail .*writes 34 characters.*character varying\(12\)/);
    expect(message).toMatch(/public\.customers\.full_name .*generated column/);
    expect(await databasesLike(live)).toEqual([]);
  });

  it('masks every partition through its parent rule and leaves no original anywhere (full scan)', async () => {
    const dir = await tempDir('shapes-good');
    const live = uniqueDb('shapes_good');
    const { config } = await writeTestConfig(dir, live, { anonymize: GOOD });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');
    const everything = await allDataText(live);
    for (const original of [
      'Real-Mail.example',
      'Realfirst',
      'Reallast',
      '+31 6 ',
      '@x.nl',
      'NL-17\t',
      '10017',
    ])
      expect(everything).not.toContain(original);
    expect(record.anonymize?.tables.map((t) => [t.name, t.rows])).toEqual([
      ['public.customers', 500],
      ['public.events', 0],
      ['public.events_2023', 1094],
      ['public.events_2024', 906],
      ['public.events_2025', 0],
      ['public.subscribers', 400],
    ]);
    // case variants re-keyed after the load: the primary key was rebuilt over 400 distinct masked addresses
    expect(record.anonymize?.tables.find((t) => t.name === 'public.subscribers')?.rekeyed).toBe(100);
    expect(
      await sql(
        live,
        `SELECT count(DISTINCT email)::int AS n FROM subscribers WHERE email LIKE 'u\\_%@example.invalid'`,
      ),
    ).toEqual([{ n: 400 }]);
    expect(record.verify.checks.filter((c) => c.status === 'failed')).toEqual([]);
  });

  it('masks a dump written with --load-via-partition-root, whose partitions COPY under the root name', async () => {
    const dir = await tempDir('shapes-root');
    await makeDumps(dir, PRODUCTION, { 'root.dump': 'c' }, undefined, ['--load-via-partition-root']);
    const live = uniqueDb('shapes_root');
    const { config } = await writeTestConfig(dir, live, { anonymize: GOOD });
    await copyFile(join(dir, 'root.dump'), join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');
    const everything = await allDataText(live);
    for (const original of ['Real-Mail.example', 'Realfirst', '+31 6 '])
      expect(everything).not.toContain(original);
    expect(
      record.anonymize?.tables.filter((t) => t.name.startsWith('public.events')).map((t) => [t.name, t.rows]),
    ).toEqual([
      ['public.events', 0],
      ['public.events_2023', 1094],
      ['public.events_2024', 906],
      ['public.events_2025', 0],
    ]);
    expect(await sql(live, 'SELECT count(*)::int AS n FROM events')).toEqual([{ n: 2000 }]);
    expect(record.verify.checks.filter((c) => c.status === 'failed')).toEqual([]);
  });
});

/**
 * A run on a dump of `setupSql` in `format` (taken through the partitions' root when `viaRoot`),
 * as the file `file` in a new directory's backups, with these anonymize rules: its config and
 * its live database's name.
 */
async function prepared(
  label: string,
  setupSql: string,
  file: string,
  format: 'c' | 'p',
  anonymize: Record<string, unknown>,
  viaRoot = false,
) {
  const dir = await tempDir(label);
  await makeDumps(dir, setupSql, { [file]: format }, undefined, viaRoot ? ['--load-via-partition-root'] : []);
  const live = uniqueDb(label.replace(/-/g, '_'));
  const { config } = await writeTestConfig(dir, live, {
    source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
    anonymize,
  });
  await copyFile(join(dir, file), join(dir, 'backups', file));
  return { config, live };
}

// A partitioned table whose partition keys a rule writes: a range key on a date, and a list key on
// an expression of a sub-partition. pg_dump writes each partition's rows into the partition, so a
// masked key that belongs in another partition is refused by PostgreSQL in the middle of the load;
// a dump taken with --load-via-partition-root COPYs into the root, which routes each row.
const KEYED = `
  CREATE TABLE visits (id bigint, at date NOT NULL, region text NOT NULL, email text) PARTITION BY RANGE (at);
  CREATE TABLE visits_old PARTITION OF visits FOR VALUES FROM (MINVALUE) TO ('2024-01-01');
  CREATE TABLE visits_2024 PARTITION OF visits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')
    PARTITION BY LIST (lower(region));
  CREATE TABLE visits_2024_eu PARTITION OF visits_2024 FOR VALUES IN ('eu');
  CREATE TABLE visits_2024_us PARTITION OF visits_2024 FOR VALUES IN ('us');
  CREATE TABLE visits_new PARTITION OF visits FOR VALUES FROM ('2025-01-01') TO (MAXVALUE);
  INSERT INTO visits SELECT g, date '2023-12-01' + (g % 90), CASE WHEN g % 2 = 0 THEN 'EU' ELSE 'us' END,
                            'Visitor' || g || '@Real-Mail.example'
    FROM generate_series(1, 600) g;`;

describe.each([
  ['a custom archive', 'prod.dump', 'c'],
  ['a plain dump', 'prod.sql', 'p'],
] as const)('rules on partition keys, in %s', (_, file, format) => {
  it('refuses a rule on a partition key before any row of the partition is written, naming the key and what to do', async () => {
    const anonymize = {
      secret: 'keyed-secret',
      tables: { 'public.visits': { at: { shift: '30d' }, region: { mask: { char: 'x' } }, email: 'email' } },
    };
    const { config, live } = await prepared('keyed-leaf', KEYED, file, format, anonymize);
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    // the message lists one problem a line
    const problems = (record.error?.message ?? '').split('\n  - ').slice(1);
    // one problem per key, on the table that owns it, naming its partitions — not one per partition
    // (a plain dump is judged at each partition's COPY: the first one met is named)
    expect(problems.length).toBeGreaterThanOrEqual(1);
    expect(problems.every((problem) => problem.includes('partition key'))).toBe(true);
    expect(problems).toContainEqual(
      expect.stringMatching(
        format === 'c'
          ? /^public\.visits\.at \(.*shift.*\): the rule on this column writes the partition key of public\.visits \(PARTITION BY RANGE \(at\)\) — .*\(public\.visits_2024_eu, public\.visits_2024_us, public\.visits_new, and 1 more\).*anonymize\.keep.*--load-via-partition-root/
          : /^public\.visits\.at \(.*shift.*\): the rule on this column writes the partition key of public\.visits \(PARTITION BY RANGE \(at\)\) — .*into each partition itself \(public\.visits_\w+\).*anonymize\.keep.*--load-via-partition-root/,
      ),
    );
    if (format === 'c') {
      expect(problems).toHaveLength(2);
      expect(problems).toContainEqual(
        expect.stringMatching(
          /^public\.visits_2024\.region .*partition key of public\.visits_2024 \(PARTITION BY LIST \(lower\(region\)\)\)/,
        ),
      );
    }
    expect(await databasesLike(live)).toEqual([]);
  });

  it('masks a partition key when the dump loads through the root, and every row lands where its masked key belongs', async () => {
    const anonymize = {
      secret: 'keyed-secret',
      tables: { 'public.visits': { at: { shift: '30d' }, email: 'email' } },
    };
    const { config, live } = await prepared('keyed-root', KEYED, file, format, anonymize, true);
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');
    // every date moved (the shift is never 0 days), every row kept, each in its partition
    expect(
      await sql(
        live,
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE at = date '2023-12-01' + (id % 90)::int)::int AS unmoved
           FROM visits`,
      ),
    ).toEqual([{ n: 600, unmoved: 0 }]);
    expect(
      await sql(
        live,
        `SELECT count(*)::int AS misplaced FROM visits
          WHERE (tableoid = 'visits_old'::regclass) <> (at < date '2024-01-01')`,
      ),
    ).toEqual([{ misplaced: 0 }]);
    expect(await allDataText(live)).not.toContain('Real-Mail.example');
    // the leak check finds every sampled row again, wherever its masked key sent it
    const leakChecks = record.verify.checks.filter(
      (check) => check.name.startsWith('no-leak:public.visits') && check.message?.includes('found again'),
    );
    expect(leakChecks.length).toBeGreaterThan(0);
    for (const check of leakChecks) {
      expect(check.status).toBe('passed');
      const [, found, of] = /\((\d+) of (\d+) rows found again/.exec(check.message ?? '') ?? [];
      expect(found).toBe(of);
    }
  });
  it('masks each partition by its own rules when the dump loads through the root (a plain dump cannot tell them apart: refused)', async () => {
    const anonymize = {
      secret: 'keyed-secret',
      tables: { 'public.visits': { email: 'email' }, 'public.visits_old': { email: 'null' } },
    };
    const { config, live } = await prepared('keyed-own', KEYED, file, format, anonymize, true);
    const record = await runRefresh(config, quiet);
    if (format === 'p') {
      expect(record.exitCode).toBe(78);
      expect(record.error?.message).toMatch(
        /anonymize\.tables\.public\.visits_old \(email: null\): this plain dump loads the rows of public\.visits_old through public\.visits .*custom format/,
      );
      expect(await databasesLike(live)).toEqual([]);
      return;
    }
    expect(record.error).toBeUndefined();
    // the old partition's own rule (null), the others' the root's (every e-mail masked)
    expect(
      await sql(
        live,
        `SELECT (tableoid = 'visits_old'::regclass) AS old, count(*) > 0 AS rows, count(email)::int AS emails,
                count(*) FILTER (WHERE email LIKE '%@example.invalid')::int AS masked
           FROM visits GROUP BY 1 ORDER BY 1`,
      ),
    ).toEqual([
      { old: false, rows: true, emails: 384, masked: 384 },
      { old: true, rows: true, emails: 0, masked: 0 },
    ]);
  });
});

describe('rules on partition keys, in an archive pg_restore reads', () => {
  it('routes the masked rows through the root as the archive says, though its data is not read here', async () => {
    const { config, live } = await prepared(
      'keyed-pg-restore',
      KEYED,
      'prod.dump',
      'c',
      {
        secret: 'keyed-secret',
        tables: { 'public.visits': { at: { shift: '30d' }, email: 'email' } },
      },
      true,
    );
    const saved = process.env.STAGING_REFRESH_ARCHIVE_READER;
    process.env.STAGING_REFRESH_ARCHIVE_READER = 'pg_restore';
    try {
      const record = await runRefresh(config, quiet);
      expect(record.error).toBeUndefined();
      expect(
        await sql(
          live,
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE at = date '2023-12-01' + (id % 90)::int)::int AS unmoved
             FROM visits`,
        ),
      ).toEqual([{ n: 600, unmoved: 0 }]);
    } finally {
      if (saved === undefined) delete process.env.STAGING_REFRESH_ARCHIVE_READER;
      else process.env.STAGING_REFRESH_ARCHIVE_READER = saved;
    }
  });
});

describe('rules that do not fit, in a plain dump', () => {
  it('refuses them at the end of the schema, before any row is written', async () => {
    const { config, live } = await prepared('shapes-plain-bad', PRODUCTION, 'prod.sql', 'p', BAD);
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    const message = record.error?.message ?? '';
    expect(message).toContain('do not fit');
    expect(message).toMatch(
      /anonymize\.tables\.public\.events_2023\.email \(.*null.*\): the column is NOT NULL/,
    );
    expect(message).toMatch(/public\.customers\.full_name .*generated column/);
    expect(record.error?.hint).toContain('no row was restored');
    expect(await databasesLike(live)).toEqual([]);
  });
});

// Table inheritance (INHERITS, as before declarative partitioning and in extensions built on it):
// pg_dump writes each child's rows under the child, so the parent's rules must reach them.
const INHERITED = `
  CREATE TABLE people (id int, email text, note text);
  CREATE TABLE staff (badge text) INHERITS (people);
  CREATE TABLE contractors (agency text) INHERITS (staff);
  INSERT INTO people SELECT g, 'Person' || g || '@Real-Mail.example', 'n' FROM generate_series(1, 30) g;
  INSERT INTO staff SELECT g, 'Staff' || g || '@Real-Mail.example', 'n', 'B' || g FROM generate_series(1, 20) g;
  INSERT INTO contractors SELECT g, 'Contractor' || g || '@Real-Mail.example', 'n', 'B', 'Agency ' || g
    FROM generate_series(1, 10) g;`;

describe.each([
  ['a custom archive', 'prod.dump', 'c'],
  ['a plain dump', 'prod.sql', 'p'],
] as const)('rules on a parent table, in %s', (_, file, format) => {
  it('reach the tables that inherit from it, at every level, with a child’s own rules added', async () => {
    const { config, live } = await prepared('inherited', INHERITED, file, format, {
      secret: 'inherited-secret',
      tables: {
        'public.people': { email: 'email', note: 'null' },
        'public.contractors': { agency: { fake: 'company.name' } },
      },
    });
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(await allDataText(live)).not.toMatch(/Real-Mail|Agency \d/);
    expect(
      await sql(
        live,
        `SELECT tableoid::regclass::text AS t, count(*)::int AS n, count(note)::int AS notes,
                count(*) FILTER (WHERE email LIKE '%@example.invalid')::int AS masked
           FROM people GROUP BY 1 ORDER BY 1`,
      ),
    ).toEqual([
      { t: 'contractors', n: 10, notes: 0, masked: 10 },
      { t: 'people', n: 30, notes: 0, masked: 30 },
      { t: 'staff', n: 20, notes: 0, masked: 20 },
    ]);
  });
});
