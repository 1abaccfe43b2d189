// The conditions every migration timing is taken under (#22): production's settings on the
// migration session, a known cache state, optional synthetic traffic, the staging server's
// facts — and, from them, a production estimate that says how it was made.
import type pg from 'pg';
import type { MigrationsConfig, ProductionConfig } from '../../../config/schema.js';
import { formatDuration } from '../../../format/duration.js';
import { calibrationFactor, ensureCalibrations } from '../../../history/calibrations.js';
import type { PgTarget } from '../../../infra/pg/connection.js';
import { withClient } from '../../../infra/pg/with-client.js';
import type { Logger } from '../../../log/logger.js';
import { startTraffic } from '../../../observe/traffic.js';
import type {
  MigrationRecord,
  RehearsalRecord,
  SettingRecord,
  TrafficRecord,
} from '../../../record/run-record.js';
import type { ParsedStatement } from '../../../sql/parse-sql.js';
import { tablesToProbe } from '../relations.js';
import type { MigrateResult } from '../tools/migration-tool.js';
import { prepareCache } from './cache-state.js';
import { productionEstimate } from './production-estimate.js';
import { applySettings, pgOptions, planSettings, type SettingsPlan } from './session-settings.js';
import { COST_SETTINGS, readStagingServer } from './staging-server.js';

export interface RehearsalInput {
  config: MigrationsConfig;
  production?: ProductionConfig | undefined;
  /** The new database the migrations run on. */
  target: PgTarget;
  /** The control database and this target's key in its history, for the calibration factor. */
  history?: { control: PgTarget; target: string } | undefined;
  log: Logger;
}

/** What a migration record gets from its rehearsal. */
export type RehearsalOutcome = Required<Pick<MigrationRecord, 'takenWith' | 'production'>> &
  Pick<MigrationRecord, 'traffic'>;

/** One migration's conditions, begun before its clock starts. */
export interface RehearsalRun {
  /** Ends the traffic and judges the timing; `statementsMs`: each statement's duration. */
  end(durationMs: number, statementsMs: readonly number[]): Promise<RehearsalOutcome>;
  /** Releases everything if end() was never reached. */
  abandon(): Promise<void>;
}

/** The run's rehearsal: its record, and what each migration calls. */
export interface Rehearsal {
  record: RehearsalRecord;
  /** PGOPTIONS carrying the session settings, for tools that open their own connections. */
  pgOptions: string;
  /** Applies the settings on the migration session, sets the cache state, starts traffic (`full`: not for rollback rehearsals). */
  begin(
    migration: pg.Client,
    pid: number,
    statements: readonly ParsedStatement[],
    full: boolean,
  ): Promise<RehearsalRun>;
  /** The conditions of a tool that ran itself (command, node-pg-migrate): settings by PGOPTIONS or connection options, no cache preparation, no traffic. */
  external(durationMs: number, how: 'PGOPTIONS' | 'connection'): RehearsalOutcome;
}

/** Reads the staging server, checks production's settings against it, loads the calibration factor. */
export async function prepareRehearsal(input: RehearsalInput): Promise<Rehearsal> {
  const { config, log } = input;
  const { server, plan } = await withClient(input.target, 'staging-refresh:rehearsal', async (client) => {
    const found = await readStagingServer(client);
    return { server: found, plan: await planSettings(client, config.settings, found) };
  });
  for (const problem of plan.unhonoured)
    log.warn({ setting: problem }, `production setting not honoured: ${problem}`);
  const calibration = input.history ? await loadFactor(input.history, log) : undefined;
  const hardware = input.production?.hardware;
  const record: RehearsalRecord = {
    server,
    settings: [
      ...plan.session.map(
        ({ name, value }): SettingRecord => ({ name, value, requested: value, via: 'session' }),
      ),
      ...plan.evaluated.map(
        ({ name, value }): SettingRecord => ({ name, value, requested: value, via: 'evaluated' }),
      ),
    ],
    unhonoured: plan.unhonoured,
    cache: config.cache,
    traffic: config.traffic !== undefined,
    ...((hardware || calibration) && {
      production: { ...(hardware && { hardware }), ...(calibration && { calibration }) },
    }),
  };
  return {
    record,
    pgOptions: pgOptions(plan),
    begin: (migration, pid, statements, full) => begin(input, record, plan, migration, pid, statements, full),
    external: (durationMs, how) => external(record, plan, durationMs, how),
  };
}

async function begin(
  input: RehearsalInput,
  record: RehearsalRecord,
  plan: SettingsPlan,
  migration: pg.Client,
  pid: number,
  statements: readonly ParsedStatement[],
  full: boolean,
): Promise<RehearsalRun> {
  const { config } = input;
  const settings = await sessionSettings(migration, plan);
  const tables = await tablesToProbe(migration, statements, config.observer.maxProbedTables || 8);
  const cache = await prepareCache(migration, tables, config.cache);
  const trafficConfig = full && tables.length > 0 ? config.traffic : undefined;
  const traffic = trafficConfig
    ? await startTraffic(input.target, tables, pid, {
        reads: trafficConfig.reads,
        writes: trafficConfig.writes,
        connections: trafficConfig.connections,
        longTransactionMs: trafficConfig.longTransaction,
      })
    : undefined;
  let ended = false;
  return {
    async end(durationMs, statementsMs) {
      ended = true;
      const measured = traffic ? await traffic.stop() : undefined;
      const lockTimeoutMs = plan.evaluated.find((s) => s.name === 'lock_timeout')?.ms ?? null;
      let trafficRecord: TrafficRecord | undefined;
      if (measured) {
        const { longestLockWaitMs, ...rest } = measured;
        trafficRecord = {
          ...rest,
          ...(lockTimeoutMs && { lockTimeout: judgeLockTimeout(lockTimeoutMs, longestLockWaitMs) }),
        };
      }
      const production = productionEstimate(durationMs, measured?.lockWaitMs ?? 0, record);
      const statementTimeout = plan.evaluated.find((s) => s.name === 'statement_timeout')?.ms ?? null;
      const longest = Math.max(0, ...statementsMs);
      if (statementTimeout && longest > 0) {
        const scaled = durationMs > 0 ? (longest * production.durationMs) / Math.max(1, durationMs) : longest;
        production.how +=
          scaled > statementTimeout
            ? `; the application's statement_timeout ${formatDuration(statementTimeout)} would cancel its longest statement (~${formatDuration(scaled)} in production)`
            : `; its longest statement (~${formatDuration(scaled)}) fits the application's statement_timeout ${formatDuration(statementTimeout)}`;
      }
      return {
        takenWith: { settings, unhonoured: record.unhonoured, cache, traffic: trafficRecord !== undefined },
        production,
        ...(trafficRecord && { traffic: trafficRecord }),
      };
    },
    async abandon() {
      if (!ended) await traffic?.stop().catch(() => undefined);
    },
  };
}

/** The configured settings as set on this session, then staging's own cost settings as the session sees them. */
async function sessionSettings(client: pg.Client, plan: SettingsPlan): Promise<SettingRecord[]> {
  const applied = await applySettings(client, plan);
  const named = new Set(applied.map((setting) => setting.name));
  const others = COST_SETTINGS.filter((name) => !named.has(name));
  const result = await client.query<{ name: string; value: string }>(
    'SELECT name, current_setting(name) AS value FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name',
    [others],
  );
  return [
    ...applied,
    ...result.rows.map((row): SettingRecord => ({ name: row.name, value: row.value, via: 'server' })),
  ];
}

/** What the application's lock_timeout would have done to the longest wait the traffic caused. */
function judgeLockTimeout(ms: number, longestWaitMs: number): NonNullable<TrafficRecord['lockTimeout']> {
  const wouldFail = longestWaitMs >= ms;
  return {
    ms,
    wouldFail,
    message: wouldFail
      ? `with lock_timeout ${formatDuration(ms)} the deploy fails fast: it waited ${formatDuration(longestWaitMs)} for its lock here, so production's migrator would stop after ${formatDuration(ms)} with SQLSTATE 55P03 and can retry`
      : `lock_timeout ${formatDuration(ms)} would not fire: the longest lock wait was ${formatDuration(longestWaitMs)}`,
  };
}

async function loadFactor(
  history: { control: PgTarget; target: string },
  log: Logger,
): Promise<{ factor: number; samples: number } | undefined> {
  try {
    return await withClient(history.control, 'staging-refresh:calibration', async (client) => {
      await ensureCalibrations(client);
      return calibrationFactor(client, history.target);
    });
  } catch (error) {
    log.warn({ error: (error as Error).message }, 'could not read the calibration factor');
    return undefined;
  }
}

function external(
  record: RehearsalRecord,
  plan: SettingsPlan,
  durationMs: number,
  how: 'PGOPTIONS' | 'connection',
): RehearsalOutcome {
  const settings = record.settings.map(
    (setting): SettingRecord =>
      setting.via === 'session' && how === 'PGOPTIONS' ? { ...setting, via: 'PGOPTIONS' } : setting,
  );
  const notes = [
    plan.session.length === 0
      ? undefined
      : how === 'PGOPTIONS'
        ? "settings passed to the tool as PGOPTIONS: drivers on libpq (psql, psycopg, Ruby pg) and node-postgres apply them; a driver that ignores PGOPTIONS (JDBC, some Go drivers) ran with staging's own settings"
        : 'settings passed as startup options of the connection the tool runs on',
    'cache not prepared: the tool opens its own connections and its tables are not known before it runs',
    record.traffic ? 'no synthetic traffic: the tool is timed as a whole' : undefined,
  ].filter((note): note is string => note !== undefined);
  return {
    takenWith: {
      settings,
      unhonoured: record.unhonoured,
      cache: { mode: 'asis', tables: [] },
      traffic: false,
      note: notes.join('; '),
    },
    production: productionEstimate(durationMs, 0, { ...record, settings }),
  };
}

/** A self-running tool's result with its conditions on every migration that ran, and the run's rehearsal record. */
export function withExternalRehearsal(
  result: MigrateResult,
  rehearsal: Rehearsal,
  tool: string,
): MigrateResult {
  const how = tool === 'node-pg-migrate' ? 'connection' : 'PGOPTIONS';
  return {
    ...result,
    migrations: result.migrations.map((m) =>
      m.status === 'skipped' ? m : { ...m, ...rehearsal.external(m.durationMs, how) },
    ),
    rehearsal: rehearsal.record,
  };
}
