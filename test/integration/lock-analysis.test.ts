// The heart of the product, on a real table of 1M rows: each kind of migration shows the lock
// PostgreSQL really takes, and the probes measure what it really blocks.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { parsePgUrl } from '../../src/infra/pg/connection.js';
import { silentLogger } from '../../src/log/logger.js';
import type { MigrationRecord } from '../../src/record/run-record.js';
import { migrate } from '../../src/stages/migrate/migrate.js';
import { cluster, sql, tempDir, uniqueDb } from '../harness/pg-test-env.js';

const MIGRATIONS: Record<string, string> = {
  '001_plain_index.sql': 'CREATE INDEX orders_reference_idx ON orders (reference);',
  '002_concurrent_index.sql': 'CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);',
  '003_volatile_default.sql': 'ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();',
  '004_foreign_key.sql':
    'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);',
};

describe('lock analysis on a 1M-row table', () => {
  let records: Map<string, MigrationRecord>;

  beforeAll(async () => {
    const info = cluster();
    const db = uniqueDb('locks');
    await sql('postgres', `CREATE DATABASE ${db}`);
    await sql(
      db,
      `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
       INSERT INTO users SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 100000) g;
       CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, total numeric(12,2), created_at timestamptz NOT NULL, reference text NOT NULL);
       INSERT INTO orders SELECT g, 1 + g % 100000, (g % 9973) / 7.0, now() - g * interval '1 second', md5(g::text)
         FROM generate_series(1, 1000000) g;`,
    );
    await sql(db, 'VACUUM ANALYZE users');
    await sql(db, 'VACUUM ANALYZE orders');
    const dir = await tempDir('locks');
    await mkdir(join(dir, 'migrations'));
    for (const [name, text] of Object.entries(MIGRATIONS))
      await writeFile(join(dir, 'migrations', name), text);
    await writeFile(join(dir, 'migrations', '001_plain_index.down.sql'), 'DROP INDEX orders_reference_idx;');
    const config = parseConfig(
      `source: { local: { path: x } }\nworkDir: ${dir}/work\ntarget: { url: 'postgres://x@h/db', allow: [h/db] }\nmigrations: { dir: ${dir}/migrations }\n`,
      {},
      dir,
    );
    const result = await migrate({
      config: config.migrations!,
      target: parsePgUrl(`postgres://${info.user}@${info.host}:${info.port}/${db}`),
      workDir: config.workDir,
      log: silentLogger(),
      signal: new AbortController().signal,
    });
    expect(result.failure).toBeUndefined();
    records = new Map(result.migrations.map((m) => [m.name, m]));
    if (process.env.DUMP_RECORDS) console.log(JSON.stringify(result.migrations, null, 1));
    expect([...records.keys()]).toEqual(Object.keys(MIGRATIONS).map((name) => name.replace('.sql', '')));
  });

  const lockOn = (m: MigrationRecord, relation: string, mode: string) =>
    m.locks.find((lock) => lock.relation === relation && lock.mode === mode);
  const blockingOn = (m: MigrationRecord, relation: string) =>
    m.blocking.find((b) => b.relation === relation);

  it('plain CREATE INDEX: SHARE lock, writes blocked for most of the build, reads never', () => {
    const m = records.get('001_plain_index')!;
    const build = m.statements[0]!.durationMs;
    expect(lockOn(m, 'public.orders', 'ShareLock')).toBeDefined();
    expect(lockOn(m, 'public.orders', 'ShareLock')!.blocks).toContain('INSERT/UPDATE/DELETE');
    const blocking = blockingOn(m, 'public.orders')!;
    expect(blocking.writesBlockedMs).toBeGreaterThanOrEqual(0.8 * build);
    expect(blocking.readsBlockedMs).toBe(0);
    expect(m.verdict).not.toBe('safe');
    expect(m.lint.map((f) => f.rule)).toContain('require-concurrent-index');
    expect(m.lint.find((f) => f.rule === 'require-concurrent-index')!.measured).toMatch(
      /took .* on public\.orders \(1,000,000 rows, .*\); writes blocked for/,
    );
    expect(m.rollback.status).toBe('present');
    expect(m.monitoringQueries.join('\n')).toContain('pg_stat_progress_create_index');
    expect(m.progress?.some((p) => p.command === 'CREATE INDEX')).toBe(true);
  });

  it('statement timings add up to the migration wall time (within 5%)', () => {
    const m = records.get('001_plain_index')!;
    const sum = m.statements.reduce((total, s) => total + s.durationMs, 0);
    expect(Math.abs(m.durationMs - sum)).toBeLessThanOrEqual(0.05 * m.durationMs);
    const [build] = m.statements;
    expect(build?.serverMs).toBeGreaterThan(0.9 * build!.durationMs);
    // The server's span lies inside the client's, so it cannot be longer — but the server times
    // it on its wall clock (pg_stat_activity) and the tool on a monotonic one, and a step of the
    // wall clock (the VM's time sync) comes between them: one CI run saw the server 10 ms ahead
    // over a 2.2 s build. Beyond such a step, a longer server time would be another statement's.
    expect(build?.serverMs).toBeLessThanOrEqual(build!.durationMs + 50);
  });

  it('CREATE INDEX CONCURRENTLY: SHARE UPDATE EXCLUSIVE, no write blocking beyond a sampling interval', () => {
    const m = records.get('002_concurrent_index')!;
    expect(m.transactional).toBe(false);
    expect(lockOn(m, 'public.orders', 'ShareUpdateExclusiveLock')).toBeDefined();
    expect(lockOn(m, 'public.orders', 'ShareLock')).toBeUndefined();
    const blocking = blockingOn(m, 'public.orders')!;
    expect(blocking.longestWriteBlockMs).toBeLessThanOrEqual(100);
    expect(blocking.readsBlockedMs).toBe(0);
    expect(m.lint.map((f) => f.rule)).not.toContain('require-concurrent-index');
  });

  it('ADD COLUMN … DEFAULT clock_timestamp(): ACCESS EXCLUSIVE, reads and writes blocked for the rewrite', () => {
    const m = records.get('003_volatile_default')!;
    const rewrite = m.statements[0]!.durationMs;
    expect(lockOn(m, 'public.orders', 'AccessExclusiveLock')).toBeDefined();
    const blocking = blockingOn(m, 'public.orders')!;
    expect(blocking.readsBlockedMs).toBeGreaterThanOrEqual(0.8 * rewrite);
    expect(blocking.writesBlockedMs).toBeGreaterThanOrEqual(0.8 * rewrite);
    expect(m.lint.map((f) => f.rule)).toContain('add-column-volatile-default');
    expect(m.rollback.status).toBe('missing');
  });

  it('ADD FOREIGN KEY: SHARE ROW EXCLUSIVE on both tables, writes blocked on both', () => {
    const m = records.get('004_foreign_key')!;
    expect(lockOn(m, 'public.orders', 'ShareRowExclusiveLock')).toBeDefined();
    expect(lockOn(m, 'public.users', 'ShareRowExclusiveLock')).toBeDefined();
    expect(blockingOn(m, 'public.orders')!.writesBlockedMs).toBeGreaterThan(0);
    expect(blockingOn(m, 'public.users')!.writesBlockedMs).toBeGreaterThan(0);
    expect(blockingOn(m, 'public.users')!.readsBlockedMs).toBe(0);
  });
});
