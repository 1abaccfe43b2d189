// migrate: replays the pending migrations on the new database, one at a time, exactly as the
// application's migration tool would, and records the checklist for each. It stops at the first
// failure; what did not run is reported as skipped.

import { readFile } from 'node:fs/promises';
import { type RefreshError, RunFailedError } from '../../errors.js';
import { formatDuration } from '../../format/duration.js';
import { withClient } from '../../infra/pg/with-client.js';
import type { MigrationRecord, RollbackRecord } from '../../record/run-record.js';
import { loadParser, type ParsedStatement, parseStatements, SqlSyntaxError } from '../../sql/parse-sql.js';
import type { MigrationAdapter, MigrationFile } from './adapters/adapter.js';
import { type ExecuteOptions, executeMigration } from './execute-migration.js';
import { lintFacts } from './lint/lint-facts.js';
import { lintMigration } from './lint/lint-migration.js';
import { assembleMigrationRecord, lockRecords, skippedRecord } from './migration-record.js';
import { migrationsDir } from './migration-source.js';
import { withMeasuredLockQueue } from './rehearsal/measured-lock-queue.js';
import { prepareRehearsal, type Rehearsal, withExternalRehearsal } from './rehearsal/rehearsal.js';
import type { MigrateInput, MigrateResult } from './tools/migration-tool.js';
import { migrationTool } from './tools/registry.js';
import { runsInTransaction } from './transaction-control.js';

export type { MigrateInput, MigrateResult } from './tools/migration-tool.js';

/** Runs the pending migrations against `target` (the new database). */
export async function migrate(input: MigrateInput): Promise<MigrateResult> {
  const { config, log } = input;
  await loadParser();
  const tool = migrationTool(config.tool);
  const rehearsal = await prepareRehearsal({ ...input, config }); // #22
  if (tool.kind === 'runs-itself')
    return withExternalRehearsal(
      await tool.run({ ...input, pgOptions: rehearsal.pgOptions }),
      rehearsal,
      tool.name,
    );
  const adapter = tool.adapter(config);
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
          hint: record.caveat
            ? `fix the migration before deploying it; the live staging database was not replaced. The replay could not know everything the real ${adapter.tool} does here: ${record.caveat}`
            : `fix the migration before deploying it: ${adapter.tool} fails it the same way; the live staging database was not replaced`,
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
  const mode = adapter.execution(file, statements);
  const transactional = runsInTransaction(mode, statements.length);
  const facts = await withClient(input.target, 'staging-refresh:lint', (client) =>
    lintFacts(client, statements),
  ).catch(() => undefined); // lint that knows the restored schema (old column types)
  const findings = lintMigration(statements, {
    inTransaction: transactional,
    disable: config.lint.disable,
    facts,
  });
  const caveat = adapter.caveat?.(file, statements);
  const refused = adapter.refuses?.(file, statements);
  if (refused) {
    const { skippedBecause: _notSkipped, ...base } = skippedRecord(file, 'refused');
    return {
      ...base,
      status: 'failed',
      verdict: 'dangerous',
      why: `${adapter.tool} refuses it before running any statement: ${refused.message}`,
      error: refused,
    };
  }
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
  // #22: the lint's lock_timeout advice with the queue the traffic measured
  const record = withMeasuredLockQueue(
    assembleMigrationRecord({
      file,
      statements,
      transactional,
      findings,
      result,
      rollback,
      dangerousMs: config.dangerousBlocking,
    }),
  );
  return caveat ? { ...record, caveat } : record;
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
    transactional: runsInTransaction(adapter.execution(file, statements), statements.length),
    mode: adapter.execution(file, statements),
    recordHistory,
    observer: {
      intervalMs: observer.interval,
      probes: observer.probes,
      probeIntervalMs: observer.probeInterval,
      probeLockTimeoutMs: observer.probeLockTimeout,
      maxProbedTables: observer.maxProbedTables,
      probeRows: observer.probeRows, // #18
      historyTables: input.config.historyTable ? [input.config.historyTable] : [], // #18
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
