// Production's database settings on `__next` (database-options.ts reads them from the archive):
// ALTER DATABASE … SET and ALTER ROLE … IN DATABASE … SET, which a restore without --create
// loses. Applied once the restore is done, so the migrations and the application's queries see
// the search_path, time zone, formats and planner settings production's sessions start with.
// Only those: a setting the tool's own sessions start with too must not change who they are
// (role), whether they connect (session_preload_libraries), whether triggers fire
// (session_replication_role), how they isolate or when they give up (timeouts — the application's
// are evaluated per migration instead: migrations.settings). Custom settings (`app.jwt_secret`…)
// may hold production's secrets: recorded by name only.
import type pg from 'pg';
import type { DatabaseSetting } from '../../dump/database-options.js';
import { ident } from '../../infra/pg/connection.js';
import type { DatabaseSettingRecord } from '../../record/run-record.js';

/** Settings copied as they are: how names resolve, how values are written and read, how queries plan. */
const COPIED = new Set([
  'search_path',
  'timezone',
  'datestyle',
  'intervalstyle',
  'extra_float_digits',
  'bytea_output',
  'xmlbinary',
  'xmloption',
  'default_text_search_config',
  'lc_messages',
  'lc_monetary',
  'lc_numeric',
  'lc_time',
  'work_mem',
  'maintenance_work_mem',
  'hash_mem_multiplier',
  'effective_cache_size',
  'effective_io_concurrency',
  'maintenance_io_concurrency',
  'default_statistics_target',
  'constraint_exclusion',
  'cursor_tuple_fraction',
  'from_collapse_limit',
  'join_collapse_limit',
  'plan_cache_mode',
  'max_parallel_workers_per_gather',
  'max_parallel_maintenance_workers',
  'parallel_leader_participation',
  'min_parallel_table_scan_size',
  'min_parallel_index_scan_size',
  'random_page_cost',
  'seq_page_cost',
  'jit',
  'geqo',
  'geqo_threshold',
]);

/** Whether `name` (lower case) is a setting the run copies: COPIED, enable_*, *_cost, jit_*. */
function copied(name: string): boolean {
  return COPIED.has(name) || /^(enable_[a-z_]+|[a-z_]+_cost|jit_[a-z_]+)$/.test(name);
}

/** Applies `settings` to database `name` where it may; what was and was not, and why. */
export async function applyDatabaseSettings(
  client: pg.Client,
  name: string,
  settings: readonly DatabaseSetting[],
): Promise<DatabaseSettingRecord[]> {
  const applied: DatabaseSettingRecord[] = [];
  for (const setting of settings) {
    const who = setting.role !== undefined ? { role: setting.role } : {};
    // Setting names are case-insensitive; pg_dump quotes the mixed-case ones ("TimeZone").
    const lower = setting.name.toLowerCase();
    if (lower.includes('.')) {
      applied.push({
        ...who,
        name: setting.name,
        applied: false,
        note: 'a custom setting: may hold a secret',
      });
      continue;
    }
    if (!copied(lower)) {
      applied.push({
        ...who,
        name: setting.name,
        value: setting.value,
        applied: false,
        note: "not one the run copies: it would apply to the tool's own sessions too (who they are, whether they connect, when they stop)",
      });
      continue;
    }
    const target =
      setting.role !== undefined
        ? `ROLE ${ident(setting.role)} IN DATABASE ${ident(name)}`
        : `DATABASE ${ident(name)}`;
    try {
      await client.query(`ALTER ${target} SET ${ident(lower)} TO ${setting.value}`);
      applied.push({ ...who, name: setting.name, value: setting.value, applied: true });
    } catch (error) {
      // The server refused it (a role staging has not got, a setting or value it does not know):
      // recorded. Anything else — a lost connection, a server going down — is not the setting's.
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || /^(08|53|57|58)/.test(code)) throw error;
      applied.push({
        ...who,
        name: setting.name,
        value: setting.value,
        applied: false,
        note: (error as Error).message,
      });
    }
  }
  return applied;
}
