// Production durations a team feeds back (`staging-refresh calibrate`), next to the staging
// timing of the same migration from the run history: their ratio calibrates the estimates.
// Its own table, created if missing, so it does not take a step of the history schema.
import type pg from 'pg';

/** One production duration fed back, with the staging timing it is compared with. */
export interface Calibration {
  migration: string;
  stagingMs: number;
  productionMs: number;
  runId: string;
  recordedAt: string;
}

/** The factor estimates use: the median production/staging ratio of the latest calibrations. */
export interface CalibrationFactor {
  factor: number;
  samples: number;
}

const TABLE = `CREATE TABLE IF NOT EXISTS staging_refresh.calibrations (
  target text NOT NULL, migration text NOT NULL, run_id text NOT NULL, staging_ms numeric NOT NULL,
  production_ms numeric NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (target, migration))`;

/** Creates the calibrations table when missing (the history schema must exist). */
export async function ensureCalibrations(client: pg.Client): Promise<void> {
  await client.query('CREATE SCHEMA IF NOT EXISTS staging_refresh');
  await client.query(TABLE);
}

/** The latest staging timing of an applied migration on `target`, from the run history. */
export async function latestStagingTiming(
  client: pg.Client,
  target: string,
  migration: string,
): Promise<{ runId: string; durationMs: number } | undefined> {
  // With migrations.traffic, part of the staging time was spent waiting behind the synthetic long
  // transaction: that is not work production would do, so it is left out.
  const result = await client.query<{ run_id: string; duration_ms: string }>(
    `SELECT m.run_id, m.duration_ms - coalesce((
              SELECT (e->'traffic'->>'lockWaitMs')::numeric FROM jsonb_array_elements(r.record->'migrations') e
               WHERE e->>'name' = m.migration LIMIT 1), 0) AS duration_ms
       FROM staging_refresh.migration_timings m
       JOIN staging_refresh.runs r USING (run_id)
      WHERE r.target = $1 AND m.migration = $2 AND m.status = 'applied'
      ORDER BY r.started_at DESC LIMIT 1`,
    [target, migration],
  );
  const row = result.rows[0];
  return row ? { runId: row.run_id, durationMs: Number(row.duration_ms) } : undefined;
}

/** Stores (or replaces) the production duration of a migration. */
export async function saveCalibration(
  client: pg.Client,
  target: string,
  calibration: Calibration,
): Promise<void> {
  await client.query(
    `INSERT INTO staging_refresh.calibrations (target, migration, run_id, staging_ms, production_ms, recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (target, migration) DO UPDATE SET run_id = EXCLUDED.run_id, staging_ms = EXCLUDED.staging_ms,
       production_ms = EXCLUDED.production_ms, recorded_at = EXCLUDED.recorded_at`,
    [
      target,
      calibration.migration,
      calibration.runId,
      calibration.stagingMs,
      calibration.productionMs,
      calibration.recordedAt,
    ],
  );
}

/** The median ratio of the latest `limit` calibrations of `target`; undefined without any. */
export async function calibrationFactor(
  client: pg.Client,
  target: string,
  limit = 10,
): Promise<CalibrationFactor | undefined> {
  const result = await client.query<{ ratio: number }>(
    `SELECT (production_ms / nullif(staging_ms, 0))::float8 AS ratio FROM staging_refresh.calibrations
      WHERE target = $1 AND staging_ms > 0 ORDER BY recorded_at DESC LIMIT $2`,
    [target, limit],
  );
  const ratios = result.rows.map((row) => row.ratio).sort((a, b) => a - b);
  if (ratios.length === 0) return undefined;
  const middle = Math.floor(ratios.length / 2);
  const median =
    ratios.length % 2 === 1
      ? (ratios[middle] as number)
      : ((ratios[middle - 1] as number) + (ratios[middle] as number)) / 2;
  return { factor: Math.round(median * 1000) / 1000, samples: ratios.length };
}
