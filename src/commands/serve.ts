// serve: a long-running scheduler for places without a CronJob. node-cron starts a refresh on
// schedule (never two at once, and the single-flight lock still applies); HTTP gives a manual
// trigger (POST /runs, bearer token), health, the latest run record and Prometheus metrics.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import cron from 'node-cron';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { RunMetrics } from '../infra/metrics/run-metrics.js';
import { parsePgUrl } from '../infra/pg/connection.js';
import type { Logger } from '../log/logger.js';
import { newRunId } from '../pipeline/run-context.js';
import { runRefresh } from '../pipeline/run-refresh.js';
import type { RunRecord } from '../record/run-record.js';
import { guardTarget } from '../stages/guard/guard.js';
import { bearerMatches } from './bearer-token.js';

export interface ServeOptions {
  log: Logger;
  /** Bearer token for POST /runs; without one the manual trigger is off. */
  token?: string | undefined;
  /** Overrides schedule.listen (tests: 127.0.0.1:0). */
  listen?: string;
}

export interface RunningServer {
  url: string;
  /** Stops scheduling, handles a running refresh per schedule.onShutdown, closes the listener. */
  /** Stops; resolves to the record of the refresh it waited for (or aborted), if one was running. */
  shutdown(): Promise<RunRecord | undefined>;
}

/** Starts the scheduler and the HTTP listener. Throws ConfigError (78) / GuardError (77) up front. */
export async function serve(config: Config, options: ServeOptions): Promise<RunningServer> {
  const schedule = config.schedule;
  if (!schedule)
    throw new ConfigError('serve needs a schedule', ['schedule: add { cron, timeZone } to the config']);
  if (!cron.validate(schedule.cron)) {
    throw new ConfigError('invalid schedule', [
      `schedule.cron: "${schedule.cron}" is not a valid cron expression`,
    ]);
  }
  await guardTarget(config, parsePgUrl(config.target.url));
  const { log } = options;
  const metrics = new RunMetrics();
  let latest: RunRecord | undefined = await readFile(join(config.report.dir, 'latest.json'), 'utf8')
    .then((text) => JSON.parse(text) as RunRecord)
    .catch(() => undefined);
  if (latest) metrics.observe(latest);
  let current: { runId: string; controller: AbortController; done: Promise<RunRecord> } | undefined;

  const start = (reason: string): string | undefined => {
    if (current) return undefined;
    const runId = newRunId();
    const controller = new AbortController();
    log.info({ runId, reason }, 'starting a refresh');
    metrics.setRunning(true);
    const done = runRefresh(config, { log, signal: controller.signal, runId }).then((record) => {
      latest = record;
      metrics.observe(record);
      metrics.setRunning(false);
      current = undefined;
      log.info({ runId, outcome: record.outcome, exitCode: record.exitCode }, 'refresh finished');
      return record;
    });
    current = { runId, controller, done };
    return runId;
  };

  const task = cron.schedule(
    schedule.cron,
    () => {
      if (!start('schedule')) log.warn('scheduled refresh skipped: the previous one is still running');
    },
    { timezone: schedule.timeZone, noOverlap: true, name: 'staging-refresh' },
  );

  const handler = async (request: IncomingMessage, response: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(`${JSON.stringify(body)}\n`);
    };
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/healthz') {
      return send(200, {
        status: 'ok',
        running: current?.runId ?? null,
        lastOutcome: latest?.outcome ?? null,
      });
    }
    if (request.method === 'GET' && path === '/runs/latest') {
      return latest ? send(200, latest) : send(404, { error: 'no run yet' });
    }
    if (request.method === 'GET' && path === '/metrics') {
      response.writeHead(200, { 'content-type': metrics.registry.contentType });
      return response.end(await metrics.registry.metrics());
    }
    if (request.method === 'POST' && path === '/runs') {
      if (!options.token || !bearerMatches(request.headers.authorization, options.token)) {
        // #15
        return send(401, {
          error: options.token
            ? 'bad or missing bearer token'
            : 'manual trigger disabled: set STAGING_REFRESH_TOKEN',
        });
      }
      const runId = start('http');
      return runId
        ? send(202, { runId })
        : send(409, { error: 'a refresh is already running', runId: current?.runId });
    }
    send(404, { error: 'not found' });
  };

  const server: Server = createServer((request, response) => {
    handler(request, response).catch((error: unknown) => {
      log.error({ err: error }, 'request failed');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  const [host, port] = splitListen(options.listen ?? schedule.listen);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  const url = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
  log.info({ url, cron: schedule.cron, timeZone: schedule.timeZone }, 'serving');

  return {
    url,
    async shutdown() {
      await task.stop();
      let waited: RunRecord | undefined;
      if (current) {
        if (schedule.onShutdown === 'abort') {
          log.warn({ runId: current.runId }, 'shutting down: aborting the running refresh');
          current.controller.abort();
        } else {
          log.info({ runId: current.runId }, 'shutting down: letting the running refresh finish');
        }
        waited = await current.done;
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return waited;
    },
  };
}

function splitListen(listen: string): [string, number] {
  const colon = listen.lastIndexOf(':');
  return colon === -1
    ? ['0.0.0.0', Number(listen)]
    : [listen.slice(0, colon), Number(listen.slice(colon + 1))];
}
