// The verdict names the statement and lock behind a measured block, never counts more blocked
// time than the locks allow, and is not moved by what cannot block anyone.
import { describe, expect, it } from 'vitest';
import type { BlockingRecord, LockRecord, StatementRecord } from '../../src/record/run-record.js';
import { capBlocking, decideVerdict, type VerdictInput } from '../../src/stages/migrate/verdict.js';

const blocking = (relation: string, ms: Partial<BlockingRecord>): BlockingRecord => ({
  relation,
  readsBlockedMs: 0,
  writesBlockedMs: 0,
  longestReadBlockMs: 0,
  longestWriteBlockMs: 0,
  ...ms,
});
const lock = (
  relation: string,
  mode: string,
  heldMs: number,
  extra: Partial<LockRecord> = {},
): LockRecord => ({
  relation,
  mode,
  heldMs,
  acquiredAtMs: 0,
  kind: 'r',
  statement: 0,
  ...extra,
});
const statement = (sql: string, line: number, durationMs: number, rows?: number): StatementRecord => ({
  sql,
  line,
  durationMs,
  ...(rows !== undefined && { rows }),
});
const verdict = (input: Partial<VerdictInput>) =>
  decideVerdict({
    status: 'applied',
    durationMs: 1000,
    locks: [],
    blocking: [],
    lint: [],
    dangerousMs: 1000,
    ...input,
  });

describe('decideVerdict', () => {
  it('ADD COLUMN then backfill: blames the ACCESS EXCLUSIVE held through the UPDATE, with the fitting fix', () => {
    const result = verdict({
      durationMs: 32_000,
      transactional: true,
      statements: [
        statement('ALTER TABLE orders ADD COLUMN flag boolean', 1, 3),
        statement('UPDATE orders SET flag = true', 2, 31_900, 600_000),
      ],
      locks: [
        lock('public.orders', 'AccessExclusiveLock', 32_000),
        lock('public.orders', 'RowExclusiveLock', 31_900, { statement: 1, acquiredAtMs: 3 }),
      ],
      blocking: [
        blocking('public.orders', {
          readsBlockedMs: 31_800,
          writesBlockedMs: 31_800,
          rowUpdatesBlockedMs: 31_900,
        }),
      ],
      lint: [
        { rule: 'require-concurrent-index', severity: 'error', line: 9, message: 'm', fix: 'CONCURRENTLY' },
        {
          rule: 'add-column-then-backfill',
          severity: 'error',
          line: 2,
          message: 'm',
          fix: 'commit the ADD COLUMN on its own',
        },
      ],
    });
    expect(result.verdict).toBe('dangerous');
    expect(result.why).toMatch(/^reads on public\.orders blocked for 31\.8s/);
    expect(result.why).toContain(
      'ACCESS EXCLUSIVE taken by `ALTER TABLE orders ADD COLUMN flag boolean` (line 1)',
    );
    expect(result.why).toContain('held until COMMIT through `UPDATE orders SET flag = true`');
    expect(result.why).toContain('safer (add-column-then-backfill): commit the ADD COLUMN on its own');
    expect(result.why).not.toContain('CONCURRENTLY');
  });

  it('a long UPDATE: row updates blocked, blamed on the UPDATE, advice is batches', () => {
    const result = verdict({
      durationMs: 68_000,
      statements: [statement('UPDATE orders SET total = total * 1.1 WHERE id < 600001', 1, 68_000, 600_000)],
      locks: [lock('public.orders', 'RowExclusiveLock', 68_000)],
      blocking: [blocking('public.orders', { rowUpdatesBlockedMs: 67_500 })],
    });
    expect(result.verdict).toBe('dangerous');
    expect(result.why).toMatch(/^row updates on public\.orders blocked for/);
    expect(result.why).toContain('changed 600,000 rows');
    expect(result.why).toContain('batches');
  });

  it('blocked time never exceeds the lock evidence (TRUNCATE: 194 ms held, not 1.05 s)', () => {
    const locks = [lock('public.orders', 'AccessExclusiveLock', 194)];
    const measured = [blocking('public.orders', { readsBlockedMs: 1050, longestReadBlockMs: 1050 })];
    expect(capBlocking(measured, locks)[0]).toMatchObject({ readsBlockedMs: 194, longestReadBlockMs: 194 });
    const result = verdict({ statements: [statement('TRUNCATE orders', 1, 194)], locks, blocking: measured });
    expect(result.verdict).toBe('review');
    expect(result.why).toContain('194ms');
    // No lock that stops reads at all: the measurement is an artefact.
    expect(
      capBlocking(measured, [lock('public.orders', 'ShareUpdateExclusiveLock', 5000)])[0]?.readsBlockedMs,
    ).toBe(0);
  });

  it('SHARE UPDATE EXCLUSIVE only, nothing measured: safe', () => {
    const result = verdict({
      statements: [statement('ALTER TABLE orders VALIDATE CONSTRAINT c', 1, 4000)],
      locks: [lock('public.orders', 'ShareUpdateExclusiveLock', 4000)],
      blocking: [blocking('public.orders', {})],
    });
    expect(result.verdict).toBe('safe');
  });

  it('bookkeeping tables, relations created here and REFRESH … CONCURRENTLY never make it dangerous', () => {
    const result = verdict({
      statements: [statement('CREATE TABLE audit (id int)', 1, 5000)],
      createdHere: ['audit'],
      locks: [
        lock('public.schema_migrations', 'AccessExclusiveLock', 5000),
        lock('sqitch.changes', 'AccessExclusiveLock', 5000),
        lock('public.audit', 'AccessExclusiveLock', 5000),
        lock('public.order_totals', 'ExclusiveLock', 5000, { kind: 'm' }),
      ],
    });
    expect(result.verdict).toBe('safe');
  });

  it('an unprobed table locked ACCESS EXCLUSIVE counts for as long as the lock was held', () => {
    const result = verdict({
      statements: [statement('ALTER TABLE users ALTER COLUMN id TYPE bigint', 1, 3000)],
      locks: [lock('public.users', 'AccessExclusiveLock', 3000)],
    });
    expect(result.verdict).toBe('dangerous');
    expect(result.why).toContain('reads on public.users blocked (not probed; lock held) for 3.0s');
    expect(result.why).toContain('`ALTER TABLE users ALTER COLUMN id TYPE bigint` (line 1)');
  });

  it('a lock only documented (too short to sample) is marked as such', () => {
    const result = verdict({
      statements: [statement('DROP INDEX orders_total_idx', 1, 40)],
      locks: [lock('public.orders', 'AccessExclusiveLock', 40, { source: 'documented' })],
      blocking: [blocking('public.orders', { readsBlockedMs: 30 })],
    });
    expect(result.verdict).toBe('review');
    expect(result.why).toContain('documented lock');
  });
});
