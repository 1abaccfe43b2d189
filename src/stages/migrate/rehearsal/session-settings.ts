// Production's settings on the migration connection: which ones staging can take per session,
// which only get evaluated (the application's timeouts: the rehearsal must still time the
// migration), and which staging cannot honour — reported with why, never silently capped.
import type pg from 'pg';
import type { SettingRecord, StagingServerRecord } from '../../../record/run-record.js';

/** Timeouts the application's migrator sets: measured against, not applied (a timed-out rehearsal times nothing). */
export const EVALUATED_SETTINGS = new Set(['lock_timeout', 'statement_timeout']);

/** What to do with each requested setting, decided once per run against the staging server. */
export interface SettingsPlan {
  /** SET on every migration session, in this order. */
  session: { name: string; value: string }[];
  /** Recorded and measured against; value normalised to the setting's unit (ms for timeouts). */
  evaluated: { name: string; value: string; ms: number | null }[];
  unhonoured: string[];
}

interface SettingRow {
  name: string;
  setting: string;
  unit: string | null;
  context: string;
  current: string;
}

/** Checks `requested` (migrations.settings) against the server on `client`; leaves the session as it was. */
export async function planSettings(
  client: pg.Client,
  requested: Readonly<Record<string, string | number | boolean>>,
  server: StagingServerRecord,
): Promise<SettingsPlan> {
  const plan: SettingsPlan = { session: [], evaluated: [], unhonoured: [] };
  const names = Object.keys(requested);
  if (names.length === 0) return plan;
  const rows = await client.query<SettingRow>(
    `SELECT name, setting, unit, context, current_setting(name) AS current FROM pg_settings WHERE name = ANY($1::text[])`,
    [names.map((name) => name.toLowerCase())],
  );
  const byName = new Map(rows.rows.map((row) => [row.name, row]));
  for (const [rawName, rawValue] of Object.entries(requested)) {
    const name = rawName.toLowerCase();
    const value = String(rawValue);
    const row = byName.get(name);
    if (!row && !name.includes('.')) {
      plan.unhonoured.push(`${name} = ${value}: staging's PostgreSQL ${server.version} has no such setting`);
      continue;
    }
    if (row && !['user', 'superuser'].includes(row.context)) {
      if (row.current !== value)
        plan.unhonoured.push(
          `${name} = ${value}: cannot be set per session (context ${row.context}: needs a ${row.context === 'postmaster' ? 'server restart' : 'configuration reload'}); staging runs with ${row.current}`,
        );
      continue;
    }
    const checked = await trySetting(client, name, value);
    if ('error' in checked) {
      plan.unhonoured.push(`${name} = ${value}: staging refused it (${checked.error})`);
      continue;
    }
    if (EVALUATED_SETTINGS.has(name)) {
      plan.evaluated.push({ name, value, ms: row?.unit === 'ms' ? Number(checked.setting) : null });
      continue;
    }
    plan.session.push({ name, value });
    plan.unhonoured.push(...limits(name, checked.setting, server));
  }
  return plan;
}

/** SETs the plan's session settings on a migration connection and reads back what is in effect. */
export async function applySettings(client: pg.Client, plan: SettingsPlan): Promise<SettingRecord[]> {
  const records: SettingRecord[] = [];
  for (const { name, value } of plan.session) {
    const result = await client.query<{ value: string }>('SELECT set_config($1, $2, false) AS value', [
      name,
      value,
    ]);
    records.push({ name, value: result.rows[0]?.value ?? value, requested: value, via: 'session' });
  }
  for (const { name, value } of plan.evaluated)
    records.push({ name, value, requested: value, via: 'evaluated' });
  return records;
}

/** The session settings as PGOPTIONS, for a tool that opens its own connections (libpq, node-postgres). */
export function pgOptions(plan: SettingsPlan): string {
  return plan.session.map(({ name, value }) => `-c ${name}=${value.replace(/[\\ ]/g, '\\$&')}`).join(' ');
}

/** Tries a value on this session (validated by the server, units normalised), then restores it. */
async function trySetting(
  client: pg.Client,
  name: string,
  value: string,
): Promise<{ setting: string } | { error: string }> {
  try {
    await client.query('BEGIN');
    await client.query('SELECT set_config($1, $2, true)', [name, value]);
    const result = await client.query<{ setting: string | null }>(
      'SELECT setting FROM pg_settings WHERE name = $1',
      [name],
    );
    return { setting: result.rows[0]?.setting ?? value };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** Limits a session value cannot lift: more parallel workers than staging can start, more memory than it has. */
function limits(name: string, setting: string, server: StagingServerRecord): string[] {
  const number = Number(setting);
  const int = (key: string) => Number(server.settings[key] ?? Number.NaN);
  if (name === 'max_parallel_maintenance_workers' || name === 'max_parallel_workers_per_gather') {
    const cap = Math.min(int('max_parallel_workers'), int('max_worker_processes'));
    if (Number.isFinite(cap) && number > cap)
      return [
        `${name} = ${setting}: staging can start at most ${cap} parallel workers (max_parallel_workers ${server.settings.max_parallel_workers}, max_worker_processes ${server.settings.max_worker_processes}); the build runs with fewer than production's`,
      ];
    if (server.cpus !== null && number + 1 > server.cpus)
      return [
        `${name} = ${setting}: staging has ${server.cpus} CPUs for ${number + 1} processes; the workers share them`,
      ];
  }
  if ((name === 'maintenance_work_mem' || name === 'work_mem') && server.memoryBytes !== null) {
    const bytes = number * 1024; // pg_settings reports these in kB
    if (bytes > server.memoryBytes)
      return [
        `${name} = ${setting}kB: more than staging's ${Math.round(server.memoryBytes / 2 ** 20)}MB of memory; the server may swap or fail where production would not`,
      ];
  }
  return [];
}
