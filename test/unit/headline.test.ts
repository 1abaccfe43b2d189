import { describe, expect, it } from 'vitest';
import type { MigrationRecord, RunRecord } from '../../src/record/run-record.js';
import { headline } from '../../src/stages/report/headline.js';

function migration(
  name: string,
  verdict: MigrationRecord['verdict'],
  writesMs = 0,
  readsMs = 0,
): MigrationRecord {
  return {
    name,
    status: 'applied',
    durationMs: Math.max(writesMs, 10),
    statements: [],
    locks: [],
    blocking: [
      {
        relation: 'public.orders',
        writesBlockedMs: writesMs,
        readsBlockedMs: readsMs,
        longestWriteBlockMs: writesMs,
        longestReadBlockMs: readsMs,
      },
    ],
    lint: [],
    rollback: { status: 'missing', durationMs: 0 },
    monitoringQueries: [],
    verdict,
    why: '',
  };
}

function record(migrations: MigrationRecord[], outcome: RunRecord['outcome'] = 'succeeded'): RunRecord {
  return {
    schemaVersion: 1,
    runId: 'r',
    outcome,
    exitCode: 0,
    startedAt: '2026-11-23T03:00:00.000Z',
    finishedAt: '2026-11-23T04:00:00.000Z',
    durationMs: 0,
    host: 'h',
    toolVersion: '0',
    target: { server: 's', database: 'app' },
    steps: [],
    migrations,
    verify: { checks: [] },
    warnings: [],
  };
}

describe('headline', () => {
  it('names the one dangerous migration by what it blocks and for how long', () => {
    const text = headline(
      record([migration('a', 'safe'), migration('b', 'dangerous', 14_520_000), migration('c', 'review', 50)]),
    );
    expect(text).toBe(
      'staging refresh 2026-11-23: 3 pending migrations, 1 blocks writes on orders for ~4h02m',
    );
  });

  it('counts several dangerous ones and describes the worst', () => {
    const text = headline(
      record([migration('a', 'dangerous', 2000), migration('b', 'dangerous', 9000, 9000)]),
    );
    expect(text).toBe(
      'staging refresh 2026-11-23: 2 pending migrations, 2 dangerous, the worst blocks reads and writes on orders for ~9.0s',
    );
  });

  it('says when all is safe, and when there is nothing pending', () => {
    expect(headline(record([migration('a', 'safe')]))).toBe(
      'staging refresh 2026-11-23: 1 pending migration, all safe',
    );
    expect(headline(record([]))).toBe('staging refresh 2026-11-23: no pending migrations, staging is fresh');
  });

  it('puts a dangerous migration in production terms when it was rehearsed with production settings and traffic', () => {
    const dangerous: MigrationRecord = {
      ...migration('b', 'dangerous', 14_520_000),
      takenWith: {
        settings: [
          { name: 'maintenance_work_mem', value: '2GB', requested: '2GB', via: 'session' },
          { name: 'lock_timeout', value: '5s', requested: '5s', via: 'evaluated' },
        ],
        unhonoured: [],
        cache: { mode: 'warm', method: 'pg_prewarm', tables: [] },
        traffic: true,
      },
      production: { durationMs: 7_260_000, basis: 'hardware', how: 'staging ÷ 2' },
      traffic: {
        tables: ['public.orders'],
        ratePerSecond: { reads: 20, writes: 10 },
        longTransactionMs: 5000,
        lockWaitMs: 5000,
        waitedBehindLongTransaction: true,
        queued: { reads: 0, writes: 42 },
        peakQueued: { reads: 0, writes: 20 },
        noConnection: 12,
        completed: { reads: 100, writes: 50 },
        worstLatencyMs: { reads: 3, writes: 5000 },
        lockTimeout: { ms: 5000, wouldFail: true, message: '' },
      },
    };
    expect(headline(record([migration('a', 'safe'), dangerous]))).toBe(
      'staging refresh 2026-11-23: 2 pending migrations, 1 blocks writes on orders for ~4h02m; on production-like settings: ~2h01m; writes queue behind it; with lock_timeout 5.0s the deploy fails fast',
    );
    // Without production settings, only a real estimate (not staging's own figure) is shown.
    const estimated = { ...dangerous, takenWith: { ...dangerous.takenWith!, settings: [] } };
    const { traffic: _traffic, ...quiet } = estimated;
    expect(headline(record([quiet]))).toBe(
      'staging refresh 2026-11-23: 1 pending migration, 1 blocks writes on orders for ~4h02m; estimated for production: ~2h01m',
    );
    expect(headline(record([{ ...quiet, production: { ...quiet.production!, basis: 'staging' } }]))).toBe(
      'staging refresh 2026-11-23: 1 pending migration, 1 blocks writes on orders for ~4h02m',
    );
  });

  it('leads with the failure and its step', () => {
    const failed = {
      ...record([], 'failed'),
      error: { code: 'x', message: 'migration m failed at f.sql:3: boom\nmore', step: 'migrate' },
    };
    expect(headline(failed)).toBe(
      'staging refresh 2026-11-23 FAILED in migrate: migration m failed at f.sql:3: boom',
    );
  });
});
