// Run history in the control database, and week-over-week trends in the next report.
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { renderText } from '../../src/stages/report/render-text.js';
import { cluster, makeDump, quiet, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { runCli } from '../harness/run-cli.js';

const production = (users: number) => `
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, note text);
  INSERT INTO users SELECT g, 'u' || g || '@x.example', repeat('x', 100) FROM generate_series(1, ${users}) g;
  CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());`;

describe('run history and trends', () => {
  beforeAll(() => void cluster());

  it('stores every run in the control database and compares the next one with it', async () => {
    const info = cluster();
    const dir = await tempDir('history');
    const control = uniqueDb('control');
    await sql('postgres', `CREATE DATABASE ${control}`);
    const live = uniqueDb('hist');
    await mkdir(join(dir, 'migrations'));
    await writeFile(
      join(dir, 'migrations', '20261120_users_email_index.sql'),
      'CREATE INDEX users_email_idx ON users (email);\n',
    );
    const { file, config } = await writeTestConfig(dir, live, {
      control: { url: `postgres://${info.user}@${info.host}:${info.port}/${control}` },
      migrations: { dir: join(dir, 'migrations') },
    });
    await makeDump(join(dir, 'backups', 'week1.dump'), production(20_000));
    const first = await runRefresh(config, quiet);
    expect(first.outcome).toBe('succeeded');
    expect(first.trends).toBeUndefined();

    await makeDump(join(dir, 'backups', 'week2.dump'), production(60_000));
    const later = new Date(Date.now() + 2000);
    await utimes(join(dir, 'backups', 'week2.dump'), later, later);
    const second = await runRefresh(config, quiet);
    expect(second.outcome).toBe('succeeded');
    const trends = second.trends!;
    expect(trends.comparedWith).toEqual({ previousRunId: first.runId, runs: 1 });
    expect(trends.series.map((p) => p.runId)).toEqual([first.runId, second.runId]);
    const restore = trends.steps.find((s) => s.name === 'restore')!;
    expect(restore.previousMs).toBe(first.steps.find((s) => s.name === 'restore')!.durationMs);
    const users = trends.tables.find((t) => t.name === 'public.users')!;
    expect(users.growthBytes).toBeGreaterThan(0);
    expect(users.previousBytes).toBe(first.restore!.tables.find((t) => t.name === 'public.users')!.bytes);
    expect(trends.migrations.map((m) => m.name)).toEqual(['20261120_users_email_index']);
    expect(trends.restoreProjection).toBeDefined();

    const schema = JSON.parse(
      await readFile(new URL('../../schema/run-record.schema.json', import.meta.url), 'utf8'),
    );
    const validate = new Ajv({ allErrors: true }).compile(schema);
    expect(validate(JSON.parse(JSON.stringify(second))), JSON.stringify(validate.errors)).toBe(true);

    const text = renderText(second);
    expect(text).toContain(`Trends (vs run ${first.runId}`);
    expect(text).toMatch(/public\.users: .* \(\+/);
    expect(text).toContain('pending last time too: 20261120_users_email_index');
    const page = await readFile(second.report!.html!, 'utf8');
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script|src="http/i);

    const stored = await sql<{ run_id: string; outcome: string }>(
      control,
      'SELECT run_id, outcome FROM staging_refresh.runs ORDER BY started_at',
    );
    expect(stored).toEqual([
      { run_id: first.runId, outcome: 'succeeded' },
      { run_id: second.runId, outcome: 'succeeded' },
    ]);
    expect(await sql(control, 'SELECT count(*)::int AS n FROM staging_refresh.migration_timings')).toEqual([
      { n: 2 },
    ]);

    const history = await runCli(['history', '--config', file]);
    expect(history.exitCode).toBe(0);
    expect(history.stdout.indexOf(second.runId)).toBeLessThan(history.stdout.indexOf(first.runId));
    const again = await runCli(['report', '--config', file, '--run', first.runId, '--format', 'markdown']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('20261120_users_email_index');
  });
});
