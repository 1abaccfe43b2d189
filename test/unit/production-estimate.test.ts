import { describe, expect, it } from 'vitest';
import type { RehearsalRecord } from '../../src/record/run-record.js';
import { productionEstimate } from '../../src/stages/migrate/rehearsal/production-estimate.js';
import { pgOptions } from '../../src/stages/migrate/rehearsal/session-settings.js';

const settings: RehearsalRecord['settings'] = [
  { name: 'maintenance_work_mem', value: '2GB', requested: '2GB', via: 'session' },
];

describe('productionEstimate', () => {
  it('prefers a calibration factor, leaves the lock wait out, and says how', () => {
    const estimate = productionEstimate(65_000, 5_000, {
      settings,
      production: { hardware: { speedFactor: 2 }, calibration: { factor: 3.5, samples: 4 } },
    });
    expect(estimate).toEqual({
      durationMs: 210_000,
      basis: 'calibration',
      how: "staging's 1m00s, less 5.0s waiting for a lock × 3.5 (median production/staging ratio of 4 migrations fed back with calibrate), on production's settings",
    });
  });

  it('falls back to production.hardware.speedFactor, then to the staging figure', () => {
    expect(
      productionEstimate(60_000, 0, { settings, production: { hardware: { speedFactor: 4 } } }),
    ).toMatchObject({
      durationMs: 15_000,
      basis: 'hardware',
    });
    const plain = productionEstimate(60_000, 0, { settings: [] });
    expect(plain).toMatchObject({ durationMs: 60_000, basis: 'staging' });
    expect(plain.how).toContain("on staging's settings (no migrations.settings)");
  });
});

describe('pgOptions', () => {
  it('passes each session setting as -c, escaping spaces and backslashes the way libpq reads them', () => {
    expect(
      pgOptions({
        session: [
          { name: 'maintenance_work_mem', value: '2GB' },
          { name: 'search_path', value: 'app, public' },
        ],
        evaluated: [{ name: 'lock_timeout', value: '5s', ms: 5000 }],
        unhonoured: [],
      }),
    ).toBe('-c maintenance_work_mem=2GB -c search_path=app,\\ public');
  });
});
