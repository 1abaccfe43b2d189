// Where it runs: `serve` with its HTTP endpoints against the real cluster, and the CronJob
// path pushing metrics to a real Pushgateway.
import { copyFile, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/commands/serve.js';
import { silentLogger } from '../../src/log/logger.js';
import { cluster, makeDump, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';
import { startPushgateway } from '../harness/pushgateway.js';
import { runCli } from '../harness/run-cli.js';

const PRODUCTION = `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
  INSERT INTO users SELECT g, 'u' || g || '@x.example' FROM generate_series(1, 20000) g;`;

describe('operations', () => {
  let dump: string;
  let slowDump: string;
  let pushgateway: { url: string; stop: () => Promise<void> };
  beforeAll(async () => {
    cluster();
    dump = await makeDump(join(await tempDir('ops-dump'), 'prod.dump'), PRODUCTION);
    slowDump = await makeDump(
      join(await tempDir('ops-slow'), 'slow.dump'),
      `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
       INSERT INTO users SELECT g, 'u' || g || '@x.example' FROM generate_series(1, 150000) g;`,
    );
    pushgateway = await startPushgateway();
  });
  afterAll(() => pushgateway?.stop());

  it('serve: health, an authenticated trigger, 409 while running, the latest record and metrics', async () => {
    const dir = await tempDir('serve');
    const { config } = await writeTestConfig(dir, uniqueDb('serve'), {
      schedule: { cron: '0 3 * * 1', timeZone: 'Europe/Amsterdam' },
    });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const server = await serve(config, { log: silentLogger(), token: 's3cret-token', listen: '127.0.0.1:0' });
    try {
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok', running: null, lastOutcome: null });
      expect((await fetch(`${server.url}/runs`, { method: 'POST' })).status).toBe(401);
      expect(
        (await fetch(`${server.url}/runs`, { method: 'POST', headers: { authorization: 'Bearer wrong' } }))
          .status,
      ).toBe(401);
      const auth = { method: 'POST', headers: { authorization: 'Bearer s3cret-token' } };
      const started = await fetch(`${server.url}/runs`, auth);
      expect(started.status).toBe(202);
      const { runId } = (await started.json()) as { runId: string };
      expect((await fetch(`${server.url}/runs`, auth)).status).toBe(409);
      let latest: { runId?: string; outcome?: string } = {};
      for (let i = 0; i < 300 && latest.runId !== runId; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const response = await fetch(`${server.url}/runs/latest`);
        if (response.ok) latest = (await response.json()) as typeof latest;
      }
      expect(latest).toMatchObject({ runId, outcome: 'succeeded' });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/staging_refresh_last_run_outcome\{outcome="succeeded"\} 1/);
      expect(metrics).toMatch(/staging_refresh_step_duration_seconds\{step="restore"\} \d/);
      expect(metrics).toMatch(/staging_refresh_restored_bytes \d+/);
      expect(metrics).toMatch(/staging_refresh_running 0/);
    } finally {
      await server.shutdown();
    }
  });

  it('serve: shutting down during a refresh aborts it cleanly (schedule.onShutdown: abort)', async () => {
    const dir = await tempDir('serve-stop');
    const live = uniqueDb('servestop');
    const { config } = await writeTestConfig(dir, live, {
      schedule: { cron: '0 3 * * 1', onShutdown: 'abort' },
      anonymize: {
        secret: 's',
        unknownPii: 'warn',
        tables: { 'public.users': { email: { fake: 'internet.email' } } },
      },
    });
    await copyFile(slowDump, join(dir, 'backups', 'prod.dump'));
    const server = await serve(config, { log: silentLogger(), token: 't', listen: '127.0.0.1:0' });
    const started = await fetch(`${server.url}/runs`, {
      method: 'POST',
      headers: { authorization: 'Bearer t' },
    });
    const { runId } = (await started.json()) as { runId: string };
    for (let i = 0; i < 200; i++) {
      const rows = await sql<{ n: number }>(
        'postgres',
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'staging-refresh:anonymize' AND datname = '${live}__next'`,
      );
      if (rows[0]!.n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stopping = Date.now();
    await server.shutdown();
    expect(Date.now() - stopping).toBeLessThan(10_000);
    const record = JSON.parse(await readFile(join(config.report.dir, 'latest.json'), 'utf8'));
    expect(record).toMatchObject({ runId, outcome: 'aborted', exitCode: 143 });
    expect(
      await sql('postgres', 'SELECT datname FROM pg_database WHERE datname LIKE $1', [`${live}%`]),
    ).toEqual([]);
  });

  it('an invalid cron expression: exit 78 naming the value', async () => {
    const dir = await tempDir('badcron');
    const { file } = await writeTestConfig(dir, uniqueDb('badcron'), { schedule: { cron: 'every monday' } });
    const result = await runCli(['serve', '--config', file]);
    expect(result.exitCode).toBe(78);
    expect(result.all).toContain('schedule.cron: "every monday" is not a valid cron expression');
  });

  it('a CronJob run pushes its metrics; the last-success gauge moves only on success', async () => {
    const dir = await tempDir('push');
    const { file } = await writeTestConfig(dir, uniqueDb('push'), {
      metrics: { pushgateway: pushgateway.url, job: 'refresh-test' },
    });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    expect((await runCli(['run', '--config', file])).exitCode).toBe(0);
    const lastSuccess = async () => {
      const text = await (await fetch(`${pushgateway.url}/metrics`)).text();
      return {
        text,
        value: /staging_refresh_last_success_timestamp_seconds\{[^}]*job="refresh-test"[^}]*\} (\S+)/.exec(
          text,
        )?.[1],
      };
    };
    const first = await lastSuccess();
    expect(first.value).toBeDefined();
    expect(first.text).toMatch(
      /staging_refresh_last_run_outcome\{[^}]*job="refresh-test"[^}]*outcome="succeeded"[^}]*\} 1/,
    );

    const bad = join(dir, 'backups', 'z.dump');
    await writeFile(bad, 'not a dump at all');
    const later = new Date(Date.now() + 2000);
    await utimes(bad, later, later);
    expect((await runCli(['run', '--config', file])).exitCode).toBe(65);
    const second = await lastSuccess();
    expect(second.value).toBe(first.value);
    expect(second.text).toMatch(
      /staging_refresh_last_run_outcome\{[^}]*job="refresh-test"[^}]*outcome="failed"[^}]*\} 1/,
    );
  });
});
