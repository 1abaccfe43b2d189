// Assembles a migration's checklist for the run record from what was executed and measured.
import { formatDuration } from '../../format/duration.js';
import { formatBytes } from '../../format/format-bytes.js';
import type { LintRecord, LockRecord, MigrationRecord, RollbackRecord } from '../../record/run-record.js';
import { createdRelations } from '../../sql/created-relations.js';
import { blockedOperations, blocksReads, blocksWrites } from '../../sql/lock-conflicts.js';
import type { ParsedStatement } from '../../sql/parse-sql.js';
import type { MigrationFile } from './adapters/adapter.js';
import type { ExecuteResult } from './execute-migration.js';
import type { LintFinding } from './lint/lint-types.js';
import { monitoringQueries } from './monitoring-queries.js';
import { capBlocking, decideVerdict } from './verdict.js';

const MAX_SQL_CHARS = 4000;

/** Locks for the record: strongest first, with the operations each blocks. */
export function lockRecords(result: ExecuteResult): LockRecord[] {
  return result.locks
    .map((lock) => ({
      // A relation that existed only inside the migration (the new heap of a table rewrite, a
      // table created and dropped) has no name once it is gone.
      relation: lock.relation ?? `transient relation (oid ${lock.oid})`,
      mode: lock.mode,
      heldMs: lock.heldMs,
      acquiredAtMs: lock.acquiredAtMs,
      kind: lock.kind ?? 'transient',
      ...(lock.waitedMs > 0 && { waitedMs: lock.waitedMs }),
      blocks: blockedOperations(lock.mode),
      ...(lock.table && { table: lock.table }),
      statement: lock.statement,
      ...(lock.source && { source: lock.source }),
    }))
    .sort((a, b) => b.blocks.length - a.blocks.length || b.heldMs - a.heldMs);
}

/** Lint findings joined with this run's measurements: what it cost here. */
export function lintRecords(
  findings: readonly LintFinding[],
  result: ExecuteResult | undefined,
): LintRecord[] {
  return findings.map((finding) => {
    const record: LintRecord = {
      rule: finding.rule,
      severity: finding.severity,
      line: finding.line,
      message: finding.message,
      fix: finding.fix,
    };
    if (!result || !finding.relation) return record;
    const statement = result.statements.find((s) => s.line === finding.line);
    const table = lastPart(finding.relation);
    const blocking = result.blocking.find((b) => lastPart(b.relation) === table);
    const size = result.relations.find((r) => lastPart(r.relation) === table);
    const parts: string[] = [];
    if (statement) {
      const volume =
        size && size.rowsBefore !== null
          ? ` (${size.rowsBefore.toLocaleString('en')} rows, ${formatBytes(size.bytesBefore ?? 0)})`
          : '';
      parts.push(
        `took ${formatDuration(statement.durationMs)} on ${blocking?.relation ?? finding.relation}${volume}`,
      );
    }
    if (blocking) {
      parts.push(`writes blocked for ${formatDuration(blocking.writesBlockedMs)}`);
      if (blocking.readsBlockedMs > 0)
        parts.push(`reads blocked for ${formatDuration(blocking.readsBlockedMs)}`);
      if ((blocking.rowUpdatesBlockedMs ?? 0) > 0)
        parts.push(`row updates blocked for ${formatDuration(blocking.rowUpdatesBlockedMs ?? 0)}`);
    }
    return parts.length > 0 ? { ...record, measured: parts.join('; ') } : record;
  });
}

export interface AssembleInput {
  file: MigrationFile;
  statements: readonly ParsedStatement[];
  transactional: boolean;
  findings: readonly LintFinding[];
  result: ExecuteResult;
  rollback: RollbackRecord;
  dangerousMs: number;
}

/** The full record of an executed migration. */
export function assembleMigrationRecord(input: AssembleInput): MigrationRecord {
  const locks = lockRecords(input.result);
  const result = { ...input.result, blocking: capBlocking(input.result.blocking, locks) };
  const lint = lintRecords(input.findings, result);
  const status = result.ok ? 'applied' : 'failed';
  // Tables worth watching: the ones probed, and any other table the migration locked in a mode
  // that blocks reads or writes (not, say, the history table it inserted a row into).
  const blockingTables = locks
    .filter((l) => l.kind === 'r' && (blocksReads(l.mode) || blocksWrites(l.mode)))
    .map((l) => l.relation);
  const tables = [...new Set([...result.blocking.map((b) => b.relation), ...blockingTables])];
  return {
    name: input.file.name,
    status,
    durationMs: result.durationMs,
    file: input.file.file,
    transactional: input.transactional,
    statements: result.statements.map((statement) => ({ ...statement, sql: clip(statement.sql) })),
    locks,
    blocking: result.blocking,
    lint,
    rollback: input.rollback,
    monitoringQueries: monitoringQueries(input.statements, tables),
    ...decideVerdict({
      status,
      durationMs: result.durationMs,
      locks,
      blocking: result.blocking,
      lint,
      errorMessage: result.error?.message,
      dangerousMs: input.dangerousMs,
      statements: result.statements,
      createdHere: createdRelations(input.statements),
      transactional: input.transactional,
    }),
    progress: result.progress,
    relations: result.relations,
    ...(result.error && { error: result.error }),
    ...(result.transactionWaits && { transactionWaits: result.transactionWaits }),
    ...result.rehearsal, // #22: takenWith, traffic, production
  };
}

/** A migration that did not run. */
export function skippedRecord(
  file: MigrationFile,
  reason: string,
  findings: LintRecord[] = [],
): MigrationRecord {
  return {
    name: file.name,
    status: 'skipped',
    durationMs: 0,
    file: file.file,
    statements: [],
    locks: [],
    blocking: [],
    lint: findings,
    rollback: {
      status: file.downFile ? 'present' : 'missing',
      durationMs: 0,
      ...(file.downFile && { file: file.downFile }),
    },
    monitoringQueries: [],
    verdict: 'review',
    why: `not run: ${reason}`,
    skippedBecause: reason,
  };
}

function clip(sql: string): string {
  return sql.length > MAX_SQL_CHARS ? `${sql.slice(0, MAX_SQL_CHARS)}… (${sql.length} characters)` : sql;
}

function lastPart(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}
