// The run history in the control database (`control.url`), which survives refreshes: every run
// with its record, step and migration timings and table sizes. The tool creates and migrates its
// own schema, `staging_refresh`, with numbered steps recorded in `staging_refresh.schema_version`.
import type pg from 'pg';
import { withTransaction } from '../infra/pg/with-client.js';
import type { RunRecord } from '../record/run-record.js';

const SCHEMA_STEPS: string[] = [
  `CREATE TABLE staging_refresh.runs (
     run_id text PRIMARY KEY, target text NOT NULL, started_at timestamptz NOT NULL, finished_at timestamptz NOT NULL,
     outcome text NOT NULL, exit_code int NOT NULL, duration_ms bigint NOT NULL, record jsonb NOT NULL);
   CREATE INDEX runs_target_started_idx ON staging_refresh.runs (target, started_at DESC);
   CREATE TABLE staging_refresh.step_timings (
     run_id text NOT NULL REFERENCES staging_refresh.runs ON DELETE CASCADE, step text NOT NULL, status text NOT NULL,
     duration_ms bigint NOT NULL, PRIMARY KEY (run_id, step));
   CREATE TABLE staging_refresh.migration_timings (
     run_id text NOT NULL REFERENCES staging_refresh.runs ON DELETE CASCADE, migration text NOT NULL, status text NOT NULL,
     verdict text NOT NULL, duration_ms numeric NOT NULL, writes_blocked_ms numeric NOT NULL, reads_blocked_ms numeric NOT NULL,
     PRIMARY KEY (run_id, migration));
   CREATE TABLE staging_refresh.table_sizes (
     run_id text NOT NULL REFERENCES staging_refresh.runs ON DELETE CASCADE, table_name text NOT NULL,
     rows bigint NOT NULL, bytes bigint NOT NULL, PRIMARY KEY (run_id, table_name));`,
];

/** Creates or migrates the history schema; safe to call concurrently. */
export async function ensureHistorySchema(client: pg.Client): Promise<void> {
  await withTransaction(client, async () => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('staging_refresh.schema'))");
    await client.query('CREATE SCHEMA IF NOT EXISTS staging_refresh');
    await client.query(
      'CREATE TABLE IF NOT EXISTS staging_refresh.schema_version (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const current = Number(
      (
        await client.query<{ v: number | null }>(
          'SELECT max(version) AS v FROM staging_refresh.schema_version',
        )
      ).rows[0]?.v ?? 0,
    );
    for (let version = current + 1; version <= SCHEMA_STEPS.length; version++) {
      await client.query(SCHEMA_STEPS[version - 1] as string);
      await client.query('INSERT INTO staging_refresh.schema_version (version) VALUES ($1)', [version]);
    }
  });
}

/** Stores (or replaces) a run. */
export async function saveRun(client: pg.Client, target: string, record: RunRecord): Promise<void> {
  await withTransaction(client, async () => {
    await client.query('DELETE FROM staging_refresh.runs WHERE run_id = $1', [record.runId]);
    await client.query(
      `INSERT INTO staging_refresh.runs (run_id, target, started_at, finished_at, outcome, exit_code, duration_ms, record)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        record.runId,
        target,
        record.startedAt,
        record.finishedAt,
        record.outcome,
        record.exitCode,
        record.durationMs,
        JSON.stringify(record),
      ],
    );
    for (const step of record.steps) {
      await client.query(
        'INSERT INTO staging_refresh.step_timings VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [record.runId, step.name, step.status, step.durationMs],
      );
    }
    for (const m of record.migrations) {
      await client.query(
        'INSERT INTO staging_refresh.migration_timings VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
        [
          record.runId,
          m.name,
          m.status,
          m.verdict,
          m.durationMs,
          Math.max(0, ...m.blocking.map((b) => b.writesBlockedMs)),
          Math.max(0, ...m.blocking.map((b) => b.readsBlockedMs)),
        ],
      );
    }
    for (const table of record.restore?.tables ?? []) {
      await client.query(
        'INSERT INTO staging_refresh.table_sizes VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [record.runId, table.name, table.rows, table.bytes],
      );
    }
  });
}

/** The latest `limit` runs for a target before `before` (newest first), full records. */
export async function loadRuns(
  client: pg.Client,
  target: string,
  limit: number,
  before?: string,
): Promise<RunRecord[]> {
  const result = await client.query<{ record: RunRecord }>(
    `SELECT record FROM staging_refresh.runs WHERE target = $1 AND ($2::timestamptz IS NULL OR started_at < $2)
      ORDER BY started_at DESC LIMIT $3`,
    [target, before ?? null, limit],
  );
  return result.rows.map((row) => row.record);
}

/** One stored run by id. */
export async function loadRun(client: pg.Client, runId: string): Promise<RunRecord | undefined> {
  const result = await client.query<{ record: RunRecord }>(
    'SELECT record FROM staging_refresh.runs WHERE run_id = $1',
    [runId],
  );
  return result.rows[0]?.record;
}
