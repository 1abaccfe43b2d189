// migrations.budget and migrations.statementTimeout: the statement running when time runs out is
// cancelled, the record says which one and how far it got, and nothing after it runs.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { parsePgUrl } from '../../src/infra/pg/connection.js';
import { silentLogger } from '../../src/log/logger.js';
import { migrate } from '../../src/stages/migrate/migrate.js';
import { cluster, sql, tempDir, uniqueDb } from '../harness/pg-test-env.js';

async function migrateWith(db: string, limits: string, files: Record<string, string>) {
  const dir = await tempDir('budget');
  await mkdir(join(dir, 'migrations'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'migrations', name), text);
  const config = parseConfig(
    `source: { local: { path: x } }\nworkDir: ${dir}/work\ntarget: { url: 'postgres://x@h/db', allow: [h/db] }\nmigrations: { dir: ${dir}/migrations, ${limits} }\n`,
    {},
    dir,
  );
  const info = cluster();
  const started = performance.now();
  const result = await migrate({
    config: config.migrations!,
    target: parsePgUrl(`postgres://${info.user}@${info.host}:${info.port}/${db}`),
    workDir: config.workDir,
    log: silentLogger(),
    signal: new AbortController().signal,
  });
  return { ...result, elapsedMs: performance.now() - started };
}

describe('migration time limits', () => {
  let db: string;
  beforeAll(async () => {
    db = uniqueDb('budget');
    await sql('postgres', `CREATE DATABASE ${db}`);
    await sql(
      db,
      `CREATE TABLE big (id bigint, payload text);
       INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 2000000) g;`,
    );
  });

  it('budget: the statement that overruns it is cancelled with how far it got; later migrations are skipped', async () => {
    const result = await migrateWith(db, 'budget: 1500ms', {
      '001_quick.sql': 'SELECT pg_sleep(0.2);',
      '002_slow_index.sql': 'CREATE INDEX big_payload_idx ON big (payload, id);\nSELECT pg_sleep(5);',
      '003_never.sql': 'CREATE TABLE never_created (id int);',
    });
    expect(result.elapsedMs).toBeLessThan(5000);
    const [quick, slow, never] = result.migrations;
    expect(quick?.status).toBe('applied');
    expect(slow?.status).toBe('failed');
    expect(slow?.error?.sqlstate).toBe('57014');
    expect(slow?.error?.message).toContain('migrations.budget ran out');
    expect(never?.status).toBe('skipped');
    expect(result.failure?.message).toContain('002_slow_index');
    const rows = await sql(db, "SELECT to_regclass('never_created') IS NULL AS absent");
    expect(rows[0]?.absent).toBe(true);
  });

  it('statementTimeout: names the limit, the statement, and the progress it had made', async () => {
    // Progress sampled every 20 ms: at the default 100 ms, a loaded CI machine once cancelled the
    // statement before its first sample, leaving no progress to name.
    const result = await migrateWith(db, 'statementTimeout: 400ms, observer: { interval: 20ms }', {
      '001_index.sql': 'CREATE INDEX big_id_payload_idx ON big (id, payload);',
    });
    const [index] = result.migrations;
    expect(index?.status).toBe('failed');
    expect(index?.error?.message).toContain('by migrations.statementTimeout');
    expect(index?.error?.statement).toContain('CREATE INDEX big_id_payload_idx');
    expect(index?.error?.reached).toMatch(/^CREATE INDEX (public\.)?big: /);
    expect(index?.error?.message).toMatch(/it got as far as CREATE INDEX (public\.)?big/);
    const statement = index?.statements[0];
    expect(statement?.durationMs).toBeGreaterThanOrEqual(380);
    // the backend's own clock: it includes the abort's clean-up, which the client does not wait for
    expect(statement?.serverMs).toBeGreaterThanOrEqual(380);
  });
});
