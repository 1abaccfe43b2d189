// The production estimate next to a staging timing, and how it was made: a calibration factor
// learned from production durations fed back, else production.hardware.speedFactor, else none
// (the staging figure stands, on production's settings when they are configured).
import { formatDuration } from '../../../format/duration.js';
import type { ProductionEstimateRecord, RehearsalRecord } from '../../../record/run-record.js';

/**
 * Estimates production's duration of a migration that took `durationMs` on staging, of which
 * `lockWaitMs` was spent waiting behind synthetic traffic (not part of the work; reported apart).
 */
export function productionEstimate(
  durationMs: number,
  lockWaitMs: number,
  rehearsal: Pick<RehearsalRecord, 'production' | 'settings'>,
): ProductionEstimateRecord {
  const work = Math.max(0, durationMs - lockWaitMs);
  const withSettings = rehearsal.settings.some(
    (setting) => setting.via === 'session' || setting.via === 'PGOPTIONS',
  )
    ? "on production's settings"
    : "on staging's settings (no migrations.settings)";
  const less = lockWaitMs > 0 ? `, less ${formatDuration(lockWaitMs)} waiting for a lock` : '';
  const calibration = rehearsal.production?.calibration;
  if (calibration)
    return {
      durationMs: Math.round(work * calibration.factor),
      basis: 'calibration',
      how: `staging's ${formatDuration(work)}${less} × ${calibration.factor} (median production/staging ratio of ${calibration.samples} migration${calibration.samples === 1 ? '' : 's'} fed back with calibrate), ${withSettings}`,
    };
  const speed = rehearsal.production?.hardware?.speedFactor;
  if (speed)
    return {
      durationMs: Math.round(work / speed),
      basis: 'hardware',
      how: `staging's ${formatDuration(work)}${less} ÷ production.hardware.speedFactor ${speed}, ${withSettings}`,
    };
  return {
    durationMs: Math.round(work),
    basis: 'staging',
    how: `staging's own ${formatDuration(work)}${less}, ${withSettings}: no calibration and no production.hardware.speedFactor`,
  };
}
