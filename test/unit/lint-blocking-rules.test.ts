// The rules that know what blocks: each fires on the costly form and keeps quiet on the safe one,
// and the restored schema's facts (old column types, validated CHECKs) remove false positives.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';
import { lintMigration } from '../../src/stages/migrate/lint/lint-migration.js';
import type { LintFacts } from '../../src/stages/migrate/lint/lint-types.js';

beforeAll(() => loadParser());

const NO_FACTS: LintFacts = { columnTypes: new Map(), validatedChecks: new Set(), indexTables: new Map() };

function rules(sql: string, options: { inTransaction?: boolean; facts?: LintFacts } = {}): string[] {
  return lintMigration(parseStatements(`SET lock_timeout = '2s';\n${sql}`), {
    inTransaction: options.inTransaction ?? true,
    facts: options.facts,
  }).map((f) => f.rule);
}

const CASES: { rule: string; fires: string; quiet: string; quietOutsideTransaction?: boolean }[] = [
  {
    rule: 'refresh-matview-without-concurrently',
    fires: 'REFRESH MATERIALIZED VIEW order_totals',
    quiet: 'REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals',
  },
  {
    rule: 'whole-table-update',
    fires: 'UPDATE orders SET flag = true',
    quiet: 'UPDATE orders SET flag = true WHERE id BETWEEN 1 AND 5000',
  },
  {
    rule: 'whole-table-update',
    fires: 'DELETE FROM orders',
    quiet: 'CREATE TABLE scratch (id int); DELETE FROM scratch',
  },
  {
    rule: 'add-column-then-backfill',
    fires: 'ALTER TABLE orders ADD COLUMN flag boolean; UPDATE orders SET flag = true WHERE id < 10',
    quiet: 'ALTER TABLE orders ADD COLUMN flag boolean; UPDATE orders SET flag = true WHERE id < 10',
    quietOutsideTransaction: true,
  },
  {
    rule: 'drop-index-without-concurrently',
    fires: 'DROP INDEX orders_user_idx',
    quiet: 'DROP INDEX CONCURRENTLY orders_user_idx',
  },
  {
    rule: 'drop-and-create-index-in-transaction',
    fires: 'DROP INDEX orders_user_idx; CREATE INDEX orders_user_idx ON orders (user_id, id)',
    quiet: 'CREATE INDEX CONCURRENTLY orders_user2_idx ON orders (user_id, id)',
  },
  {
    rule: 'attach-partition-without-check',
    fires: "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    quiet:
      "ALTER TABLE events_2024 ADD CONSTRAINT b CHECK (at >= '2024-01-01' AND at < '2025-01-01'); ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
  },
  { rule: 'truncate', fires: 'TRUNCATE orders', quiet: 'CREATE TABLE scratch (id int); TRUNCATE scratch' },
  {
    rule: 'do-commit-in-transaction',
    fires: 'DO $$ BEGIN UPDATE orders SET flag = true WHERE id < 10; COMMIT; END $$',
    quiet: "DO $$ BEGIN RAISE NOTICE 'COMMIT later'; -- COMMIT\nEND $$",
  },
];

describe('lint rules that know what blocks', () => {
  for (const c of CASES) {
    it(`${c.rule} fires on: ${c.fires.slice(0, 50)}`, () => expect(rules(c.fires)).toContain(c.rule));
    it(`${c.rule} keeps quiet on: ${c.quiet.slice(0, 50)}`, () =>
      expect(rules(c.quiet, { inTransaction: !c.quietOutsideTransaction })).not.toContain(c.rule));
  }

  it('a DO block that commits is fine in a migration run without a transaction', () =>
    expect(rules('DO $$ BEGIN COMMIT; END $$', { inTransaction: false })).not.toContain(
      'do-commit-in-transaction',
    ));

  it('ADD COLUMN and a backfill committed in between are not one transaction', () =>
    expect(
      rules(
        'BEGIN; ALTER TABLE orders ADD COLUMN f int; COMMIT; BEGIN; UPDATE orders SET f = 1 WHERE id < 9; COMMIT',
        {
          inTransaction: false,
        },
      ),
    ).not.toContain('add-column-then-backfill'));

  it('missing-lock-timeout: not for statements that take only SHARE UPDATE EXCLUSIVE', () => {
    const bare = (sql: string) =>
      lintMigration(parseStatements(sql), { inTransaction: true }).map((f) => f.rule);
    expect(bare('ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check')).not.toContain(
      'missing-lock-timeout',
    );
    expect(bare('ALTER TABLE orders SET (fillfactor = 70)')).not.toContain('missing-lock-timeout');
    expect(bare('REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals')).not.toContain('missing-lock-timeout');
    expect(bare('ALTER TABLE orders ADD COLUMN f int')).toContain('missing-lock-timeout');
    expect(bare('DROP INDEX orders_user_idx')).toContain('missing-lock-timeout');
  });

  it('varchar widening is free when the restored schema says the old type', () => {
    const widen = 'ALTER TABLE users ALTER COLUMN email TYPE varchar(200)';
    const facts = (old: string): LintFacts => ({ ...NO_FACTS, columnTypes: new Map([['users.email', old]]) });
    expect(rules(widen, { facts: facts('character varying(100)') })).not.toContain('alter-column-type');
    expect(
      rules('ALTER TABLE users ALTER COLUMN email TYPE text', { facts: facts('character varying(100)') }),
    ).not.toContain('alter-column-type');
    const narrowed = lintMigration(parseStatements(widen), {
      inTransaction: true,
      facts: facts('character varying(300)'),
    }).find((f) => f.rule === 'alter-column-type');
    expect(narrowed).toMatchObject({
      severity: 'error',
      message: expect.stringContaining('from character varying(300)'),
    });
    expect(rules(widen, { facts: facts('integer') })).toContain('alter-column-type');
    // Without the database the old type is unknown: a warning that says when it is free.
    expect(rules(widen)).toContain('alter-column-type');
  });

  it('ATTACH PARTITION is quiet when the partition already has a validated CHECK', () => {
    const attach =
      "ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')";
    expect(
      rules(attach, { facts: { ...NO_FACTS, validatedChecks: new Set(['events_2024']) } }),
    ).not.toContain('attach-partition-without-check');
  });

  it('DROP + CREATE INDEX on different tables (known from the schema) is not the rebuild pattern', () => {
    const sql = 'DROP INDEX users_email_idx; CREATE INDEX orders_user_idx ON orders (user_id)';
    const facts = { ...NO_FACTS, indexTables: new Map([['users_email_idx', 'public.users']]) };
    expect(rules(sql, { facts })).not.toContain('drop-and-create-index-in-transaction');
  });
});
