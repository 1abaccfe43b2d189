// history: the stored runs of this target, newest first, with their durations — from the
// control database, or from report.dir when there is none.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { formatDuration } from '../format/duration.js';
import { ensureHistorySchema, loadRun, loadRuns } from '../history/history-store.js';
import { parsePgUrl, targetIdentity } from '../infra/pg/connection.js';
import { withClient } from '../infra/pg/with-client.js';
import type { RunRecord } from '../record/run-record.js';

/** The latest `limit` runs, newest first. */
export async function listRuns(config: Config, limit: number): Promise<RunRecord[]> {
  if (config.control) {
    const identity = targetIdentity(parsePgUrl(config.target.url));
    return withClient(parsePgUrl(config.control.url), 'staging-refresh:history', async (client) => {
      await ensureHistorySchema(client);
      return loadRuns(client, identity, limit);
    });
  }
  const names = (await readdir(config.report.dir).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.json') && name !== 'latest.json')
    .sort()
    .reverse()
    .slice(0, limit);
  return Promise.all(
    names.map(async (name) => JSON.parse(await readFile(join(config.report.dir, name), 'utf8')) as RunRecord),
  );
}

/** One run by id from the control database, when there is one. */
export async function findRun(config: Config, runId: string): Promise<RunRecord | undefined> {
  if (!config.control) return undefined;
  return withClient(parsePgUrl(config.control.url), 'staging-refresh:history', async (client) => {
    await ensureHistorySchema(client);
    return loadRun(client, runId);
  });
}

/** A table of runs for the terminal. */
export function formatRuns(runs: readonly RunRecord[]): string {
  const lines = [
    'run id                      started               outcome    total    restore  migrate  pending',
  ];
  for (const run of runs) {
    const step = (name: string) => formatDuration(run.steps.find((s) => s.name === name)?.durationMs ?? 0);
    lines.push(
      `${run.runId.padEnd(27)} ${run.startedAt.slice(0, 19).replace('T', ' ')}   ${run.outcome.padEnd(10)} ${formatDuration(run.durationMs).padEnd(8)} ${step('restore').padEnd(8)} ${step('migrate').padEnd(8)} ${run.migrations.length}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
