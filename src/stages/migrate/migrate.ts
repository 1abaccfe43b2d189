// migrate: replays the pending migrations on the new database, one at a time, exactly as the
// application's migration tool would, and records the checklist for each. It stops at the first
// failure; what did not run is reported as skipped.

import { readFile } from 'node:fs/promises';
import { formatDuration } from '../../config/duration.js';
import type { MigrationsConfig, ProductionConfig } from '../../config/schema.js';
import { type RefreshError, RunFailedError } from '../../errors.js';
import type { PgTarget } from '../../infra/pg/connection.js';
import { withClient } from '../../infra/pg/with-client.js';
import type { Logger } from '../../log/logger.js';
import type { MigrationRecord, RehearsalRecord, RollbackRecord } from '../../record/run-record.js';
import { loadParser, type ParsedStatement, parseStatements, SqlSyntaxError } from '../../sql/parse-sql.js';
import type { MigrationAdapter, MigrationFile } from './adapters/adapter.js';
import { createAdapter } from './adapters/create-adapter.js';
import { runCommandMigration } from './command-migration.js';
import { type ExecuteOptions, executeMigration } from './execute-migration.js';
import { lintMigration } from './lint/lint-migration.js';
import { assembleMigrationRecord, lockRecords, skippedRecord } from './migration-record.js';
import { migrationsDir } from './migration-source.js';
import { runNodePgMigrate } from './node-pg-migrate-migration.js';
import { withMeasuredLockQueue } from './rehearsal/measured-lock-queue.js';
import { prepareRehearsal, type Rehearsal } from './rehearsal/rehearsal.js';

export interface MigrateInput {
  config: MigrationsConfig;
  target: PgTarget;
  workDir: string;
  log: Logger;
  signal: AbortSignal;
  /** Production's hardware, for estimates (#22). */
  production?: ProductionConfig | undefined;
  /** The control database and this target's history key, for calibrated estimates (#22). */
  history?: { control: PgTarget; target: string } | undefined;
}

export interface MigrateResult {
  migrations: MigrationRecord[];
  notes: string[];
  failure?: RefreshError;
  /** The staging server and the conditions of every timing (#22). */
  rehearsal?: RehearsalRecord;
}

/** Runs the pending migrations against `target` (the new database). */
export async function migrate(input: MigrateInput): Promise<MigrateResult> {
  const { config, log } = input;
  await loadParser();
  if (config.tool === 'command') {
    const cwd =
      config.dir || config.git ? await migrationsDir(config, input.workDir, input.signal) : undefined;
    const rehearsal = await prepareRehearsal({ ...input, config }); // #22
    const ran = await runCommandMigration(config, input.target, cwd, log, input.signal, rehearsal.pgOptions);
    const record = { ...ran, ...rehearsal.external(ran.durationMs, 'PGOPTIONS') };
    return {
      migrations: [record],
      notes: [],
      rehearsal: rehearsal.record,
      ...(record.status === 'failed' && {
        failure: new RunFailedError(
          'migration-failed',
          `${record.name} failed: ${record.error?.message ?? 'unknown error'}`,
          {
            step: 'migrate',
            hint: 'fix the migration before deploying it; the live staging database was not replaced',
          },
        ),
      }),
    };
  }
  if (config.tool === 'node-pg-migrate') {
    const rehearsal = await prepareRehearsal({ ...input, config }); // #22
    const result = await runNodePgMigrate(
      config,
      input.target,
      await migrationsDir(config, input.workDir, input.signal),
      log,
      rehearsal.pgOptions,
    );
    result.migrations = result.migrations.map((m) =>
      m.status === 'skipped' ? m : { ...m, ...rehearsal.external(m.durationMs, 'connection') },
    );
    const failed = result.migrations.find((m) => m.status === 'failed');
    const reason =
      result.blocker ??
      (failed && `migration ${failed.name} failed: ${failed.error?.message ?? 'unknown error'}`);
    return {
      migrations: result.migrations,
      notes: result.blocker ? [result.blocker] : [],
      rehearsal: rehearsal.record,
      ...(reason && {
        failure: new RunFailedError(result.blocker ? 'migrations-blocked' : 'migration-failed', reason, {
          step: 'migrate',
          hint: 'fix the migration before deploying it; the live staging database was not replaced',
        }),
      }),
    };
  }
  const adapter = createAdapter(config);
  const dir = await migrationsDir(config, input.workDir, input.signal);
  const files = await adapter.discover(dir);
  const plan = await withClient(input.target, 'staging-refresh:migrate-plan', (client) =>
    adapter.plan(client, files),
  );
  const notes = [...plan.notes, ...plan.skipped.map((s) => `${s.file.name}: ${s.reason}`)];
  log.info(
    { tool: adapter.tool, dir, found: files.length, pending: plan.pending.map((f) => f.name) },
    `${plan.pending.length} pending migration(s)`,
  );

  if (plan.blockers.length > 0) {
    const reason = `${adapter.tool} would refuse to migrate: ${plan.blockers.join('; ')}`;
    return {
      migrations: plan.pending.map((file) => skippedRecord(file, reason)),
      notes: [...notes, ...plan.blockers],
      failure: new RunFailedError('migrations-blocked', reason, {
        hint: 'the deploy would fail the same way: fix the migration history first',
        step: 'migrate',
      }),
    };
  }

  const migrations: MigrationRecord[] = plan.skipped.map((s) => skippedRecord(s.file, s.reason));
  const rehearsal = await prepareRehearsal({ ...input, config }); // #22
  const deadline = config.budget !== undefined ? performance.now() + config.budget : undefined;
  let failure: RefreshError | undefined;
  for (const file of plan.pending) {
    if (failure) {
      migrations.push(skippedRecord(file, `an earlier migration failed`));
      continue;
    }
    const record = await runOne(file, adapter, input, deadline, rehearsal);
    migrations.push(record);
    log.info(
      { migration: file.name, status: record.status, durationMs: record.durationMs, verdict: record.verdict },
      `${file.name}: ${record.status} in ${formatDuration(record.durationMs)} — ${record.verdict}: ${record.why}`,
    );
    if (record.status === 'failed') {
      const where = record.error?.line ? `${file.file}:${record.error.line}` : file.file;
      failure = new RunFailedError(
        'migration-failed',
        `migration ${file.name} failed at ${where}: ${record.error?.message ?? 'unknown error'}`,
        {
          step: 'migrate',
          hint: 'fix the migration before deploying it; the live staging database was not replaced',
        },
      );
    }
  }
  const unhonoured = rehearsal.record.unhonoured.map(
    (problem) => `production setting not honoured: ${problem}`,
  );
  return {
    migrations,
    notes: [...notes, ...unhonoured],
    ...(failure && { failure }),
    rehearsal: rehearsal.record,
  };
}

async function runOne(
  file: MigrationFile,
  adapter: MigrationAdapter,
  input: MigrateInput,
  deadline: number | undefined,
  rehearsal?: Rehearsal,
): Promise<MigrationRecord> {
  const { config } = input;
  let statements: ParsedStatement[];
  try {
    statements = parseStatements(file.sql);
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    return {
      ...skippedRecord(file, 'syntax error'),
      status: 'failed',
      verdict: 'dangerous',
      why: `syntax error on line ${error.line}: ${error.message}`,
      error: { message: error.message, sqlstate: '42601', line: error.line },
    };
  }
  const transactional = adapter.transactional(file, statements);
  const findings = lintMigration(statements, { inTransaction: transactional, disable: config.lint.disable });
  const execute = (
    sqlFile: MigrationFile,
    parsed: ParsedStatement[],
    recordHistory: boolean,
  ): ReturnType<typeof executeMigration> =>
    executeMigration({
      ...executeOptions(input, adapter, sqlFile, parsed, recordHistory, deadline),
      rehearsal,
    });
  const result = await execute(file, statements, true);
  const rollback = result.ok
    ? await rollbackFor(file, adapter, input, execute, statements)
    : rollbackStatus(file, adapter);
  return withMeasuredLockQueue(
    assembleMigrationRecord({
      file,
      statements,
      transactional,
      findings,
      result,
      rollback,
      dangerousMs: config.dangerousBlocking,
    }),
  ); // #22: the lint's lock_timeout advice with the queue the traffic measured
}

function executeOptions(
  input: MigrateInput,
  adapter: MigrationAdapter,
  file: MigrationFile,
  statements: ParsedStatement[],
  recordHistory: boolean,
  deadline: number | undefined,
): ExecuteOptions {
  const { observer } = input.config;
  return {
    target: input.target,
    adapter,
    file,
    statements,
    transactional: adapter.transactional(file, statements),
    recordHistory,
    observer: {
      intervalMs: observer.interval,
      probes: observer.probes,
      probeIntervalMs: observer.probeInterval,
      probeLockTimeoutMs: observer.probeLockTimeout,
      maxProbedTables: observer.maxProbedTables,
    },
    statementTimeoutMs: input.config.statementTimeout,
    deadline,
    log: input.log,
    signal: input.signal,
  };
}

function rollbackStatus(file: MigrationFile, adapter: MigrationAdapter): RollbackRecord {
  if (file.downFile) return { status: 'present', durationMs: 0, file: file.downFile };
  return { status: adapter.supportsDown ? 'missing' : 'not-supported', durationMs: 0 };
}

/** rollback: check → present/missing; rehearse → run down, time and observe it, then up again. */
async function rollbackFor(
  file: MigrationFile,
  adapter: MigrationAdapter,
  input: MigrateInput,
  execute: (
    file: MigrationFile,
    statements: ParsedStatement[],
    recordHistory: boolean,
  ) => ReturnType<typeof executeMigration>,
  upStatements: ParsedStatement[],
): Promise<RollbackRecord> {
  const status = rollbackStatus(file, adapter);
  if (input.config.rollback !== 'rehearse' || !file.downFile) return status;
  const downSql = await readFile(file.downFile, 'utf8');
  let downStatements: ParsedStatement[];
  try {
    downStatements = parseStatements(downSql);
  } catch (error) {
    return {
      ...status,
      status: 'failed',
      error: `down migration does not parse: ${(error as Error).message}`,
    };
  }
  const down = await execute({ ...file, file: file.downFile, sql: downSql }, downStatements, false);
  const observed = { locks: lockRecords(down), blocking: down.blocking };
  if (!down.ok) {
    return {
      status: 'failed',
      durationMs: down.durationMs,
      file: file.downFile,
      error: down.error?.message ?? 'failed',
      ...observed,
    };
  }
  const again = await execute(file, upStatements, false);
  return {
    status: 'rehearsed',
    durationMs: down.durationMs,
    file: file.downFile,
    ...observed,
    ...(!again.ok && { error: `up again after down failed: ${again.error?.message}` }),
  };
}
