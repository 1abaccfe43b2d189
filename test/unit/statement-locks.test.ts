// The documented lock of each statement (PostgreSQL's "Explicit Locking" and reference pages),
// and the short locks it fills in where sampling saw nothing.
import { beforeAll, describe, expect, it } from 'vitest';
import { documentedShortLocks } from '../../src/observe/documented-locks.js';
import type { TrackedLock } from '../../src/observe/lock-tracker.js';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';
import { documentedLocks, strongestDocumentedLock } from '../../src/sql/statement-locks.js';

beforeAll(() => loadParser());

const strongest = (sql: string) => strongestDocumentedLock(parseStatements(sql)[0]!);

describe('documentedLocks', () => {
  it.each([
    ['CREATE INDEX i ON orders (a)', 'ShareLock'],
    ['CREATE INDEX CONCURRENTLY i ON orders (a)', 'ShareUpdateExclusiveLock'],
    ['REINDEX INDEX orders_pkey', 'AccessExclusiveLock'],
    ['REINDEX INDEX CONCURRENTLY orders_pkey', 'ShareUpdateExclusiveLock'],
    ['DROP INDEX orders_a_idx', 'AccessExclusiveLock'],
    ['DROP INDEX CONCURRENTLY orders_a_idx', 'ShareUpdateExclusiveLock'],
    ['REFRESH MATERIALIZED VIEW totals', 'AccessExclusiveLock'],
    ['REFRESH MATERIALIZED VIEW CONCURRENTLY totals', 'ExclusiveLock'],
    ['ALTER TABLE orders VALIDATE CONSTRAINT c', 'ShareUpdateExclusiveLock'],
    ['ALTER TABLE orders SET (fillfactor = 70)', 'ShareUpdateExclusiveLock'],
    ['ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users (id)', 'ShareRowExclusiveLock'],
    ['ALTER TABLE orders ADD COLUMN a int, VALIDATE CONSTRAINT c', 'AccessExclusiveLock'],
    ['TRUNCATE orders', 'AccessExclusiveLock'],
    ['VACUUM orders', 'ShareUpdateExclusiveLock'],
    ['UPDATE orders SET a = 1', 'RowExclusiveLock'],
    ['SELECT 1', undefined],
  ])('%s → %s', (sql, mode) => expect(strongest(sql)).toBe(mode));

  it('ATTACH PARTITION: SHARE UPDATE EXCLUSIVE on the parent, ACCESS EXCLUSIVE on the partition', () => {
    const [statement] = parseStatements(
      'ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES IN (2024)',
    );
    expect(documentedLocks(statement!)).toEqual([
      { relation: 'events', mode: 'ShareUpdateExclusiveLock', target: 'table' },
      { relation: 'events_2024', mode: 'AccessExclusiveLock', target: 'table' },
    ]);
  });
});

describe('documentedShortLocks', () => {
  let statements: ReturnType<typeof parseStatements>;
  beforeAll(() => {
    statements = parseStatements('DROP INDEX orders_a_idx; CREATE INDEX i ON orders (a)');
  });
  const resolved = new Map([
    ['orders_a_idx', { oid: 5, relation: 'public.orders_a_idx', kind: 'i', table: 'public.orders' }],
    ['orders', { oid: 4, relation: 'public.orders', kind: 'r', table: null }],
  ]);
  const timings = [
    { index: 0, startMs: 0, heldMs: 12 },
    { index: 1, startMs: 12, heldMs: 3000 },
  ];
  const sampled: TrackedLock[] = [
    {
      oid: 4,
      relation: 'public.orders',
      kind: 'r',
      table: null,
      mode: 'ShareLock',
      acquiredAtMs: 40,
      heldMs: 2950,
      waitedMs: 0,
      statement: 1,
    },
  ];

  it('adds what sampling missed (the DROP INDEX, on the index and its table), marked documented', () => {
    const found = documentedShortLocks(statements, timings, sampled, resolved);
    expect(found).toEqual([
      expect.objectContaining({
        relation: 'public.orders_a_idx',
        mode: 'AccessExclusiveLock',
        heldMs: 12,
        statement: 0,
        source: 'documented',
      }),
      expect.objectContaining({
        relation: 'public.orders',
        mode: 'AccessExclusiveLock',
        heldMs: 12,
        statement: 0,
        source: 'documented',
      }),
    ]);
  });

  it('adds nothing for a lock sampling already saw', () => {
    const onlyIndex = documentedShortLocks(
      statements.slice(1),
      [{ index: 0, startMs: 12, heldMs: 3000 }],
      sampled,
      resolved,
    );
    expect(onlyIndex).toEqual([]);
  });
});
