// Estimates for production next to staging timings (#22): from production.hardware first, then
// from a production duration fed back with `staging-refresh calibrate`, stored in the control
// database; the next run's estimate uses it and says so.
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { renderHtmlPage } from '../../src/stages/report/render-html-email.js';
import { renderText } from '../../src/stages/report/render-text.js';
import { cluster, makeDump, quiet, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

const PRODUCTION = `
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE orders (id bigint PRIMARY KEY, reference text NOT NULL);
  INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 50000) g;`;

describe('production estimates', () => {
  it('come from production.hardware, then from production durations fed back with calibrate', async () => {
    const info = cluster();
    const dir = await tempDir('calibrate');
    const control = uniqueDb('control');
    await sql('postgres', `CREATE DATABASE ${control}`);
    const live = uniqueDb('calib');
    await mkdir(join(dir, 'migrations'));
    await writeFile(
      join(dir, 'migrations', '20261120_orders_reference_index.sql'),
      'CREATE INDEX orders_reference_idx ON orders (reference);\n',
    );
    const { file, config } = await writeTestConfig(dir, live, {
      control: { url: `postgres://${info.user}@${info.host}:${info.port}/${control}` },
      production: { hardware: { cpus: 16, memoryGb: 64, speedFactor: 2 } },
      migrations: {
        dir: join(dir, 'migrations'),
        settings: { maintenance_work_mem: '64MB' },
        cache: 'warm',
      },
    });
    await makeDump(join(dir, 'backups', 'week1.dump'), PRODUCTION);
    const first = await runRefresh(config, quiet);
    expect(first.outcome).toBe('succeeded');
    const before = first.migrations[0]!;
    expect(before.production).toMatchObject({ basis: 'hardware' });
    expect(before.production!.durationMs).toBeCloseTo(before.durationMs / 2, -1);
    expect(before.production!.how).toMatch(/÷ production\.hardware\.speedFactor 2, on production's settings/);
    expect(first.rehearsal?.production?.hardware).toEqual({ cpus: 16, memoryGb: 64, speedFactor: 2 });
    const text = renderText(first);
    expect(text).toMatch(/staging server: PostgreSQL \d+.*; production: 16 CPUs, 64 GB, ×2 speed/);
    expect(text).toMatch(/production estimate: ~.* \(staging's .* ÷ production\.hardware\.speedFactor 2/);
    expect(text).toMatch(/taken with: maintenance_work_mem=64MB; cache warm \(pg_prewarm\): public\.orders/);
    const html = renderHtmlPage(first);
    expect(html).toMatch(/staging server: PostgreSQL \d+/);
    expect(html).toMatch(/<br>production estimate: ~/);

    const unknown = await runCli(['calibrate', '-c', file, '--migration', 'nope', '--took', '1h']);
    expect(unknown.exitCode).toBe(64);
    expect(unknown.all).toMatch(/no applied run of migration nope/);

    // Production took 20× what staging took (a bigger, busier table): the team says so.
    const took = `${Math.round((before.durationMs * 20) / 1000) || 1}s`;
    const fed = await runCli([
      'calibrate',
      '-c',
      file,
      '--migration',
      '20261120_orders_reference_index',
      '--took',
      took,
    ]);
    expect(fed.exitCode, fed.all).toBe(0);
    expect(fed.stdout).toMatch(/estimates now use ×[\d.]+ \(median of 1 calibration\)/);
    const stored = await sql<{ staging_ms: string; production_ms: string }>(
      control,
      'SELECT staging_ms, production_ms FROM staging_refresh.calibrations',
    );
    expect(Number(stored[0]?.staging_ms)).toBe(before.durationMs);
    const factor = Number(stored[0]?.production_ms) / before.durationMs;

    await makeDump(join(dir, 'backups', 'week2.dump'), PRODUCTION);
    const later = new Date(Date.now() + 2000);
    await utimes(join(dir, 'backups', 'week2.dump'), later, later);
    const second = await runRefresh(config, quiet);
    expect(second.outcome).toBe('succeeded');
    const after = second.migrations[0]!;
    expect(second.rehearsal?.production?.calibration).toEqual({
      factor: expect.closeTo(factor, 2),
      samples: 1,
    });
    expect(after.production).toMatchObject({ basis: 'calibration' });
    expect(after.production!.durationMs / after.durationMs).toBeCloseTo(factor, 1);
    expect(after.production!.how).toMatch(
      /median production\/staging ratio of 1 migration fed back with calibrate/,
    );

    const schema = JSON.parse(
      await readFile(new URL('../../schema/run-record.schema.json', import.meta.url), 'utf8'),
    );
    const validate = new Ajv({ allErrors: true }).compile(schema);
    expect(validate(JSON.parse(JSON.stringify(second))), JSON.stringify(validate.errors)).toBe(true);
  }, 300_000); // two whole refreshes and two CLI runs: minutes on a loaded 2-core machine
});
