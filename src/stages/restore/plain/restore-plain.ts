// Restores a plain-SQL dump (.sql or .sql.gz) with psql, the way pg_restore restores an archive:
// objects owned by target.owner (ownership, privileges, publications, subscriptions, security
// labels, tablespaces and database-level statements left out, as pg_restore's --no-* flags do),
// masked in the stream, and never a row of data before the PII gate has passed.
//
// pg_dump writes all of pre-data before the first row of data, so the stream is cut there: a
// first psql session creates the schema, the gate checks the rules against that schema, and a
// second session gets the data and post-data, with the dump's session settings replayed.
// Statements come from the PostgreSQL parser, not from psql's own reading of the file, and
// psql meta-commands of the dump (\connect, \restrict) are not passed on.
import { basename } from 'node:path';
import type pg from 'pg';
import {
  type ColumnFacts,
  loadColumnFacts,
  loadInheritance,
  loadPartitions,
} from '../../../anonymize/column-facts.js';
import { isLargeObjectStatement, largeObjectFinding } from '../../../anonymize/large-objects.js';
import { expandPartitionRules, partitionParents } from '../../../anonymize/partition-rules.js';
import { checkCoverage } from '../../../anonymize/pii-gate.js';
import { KeyedPrf } from '../../../anonymize/prf/keyed-prf.js';
import {
  describeRule,
  foreignKeyProblems,
  partitionKeyProblems,
  ruleFitError,
  ruleFitProblems,
} from '../../../anonymize/rule-fit.js';
import { statisticsCall } from '../../../anonymize/statistics.js';
import type { ColumnRule } from '../../../anonymize/strategies/registry.js';
import { compileTableTransform, type TableTransform } from '../../../anonymize/table-transform.js';
import { columnsToSample, columnValues, valueFindings } from '../../../anonymize/value-sampling.js';
import type { Config } from '../../../config/schema.js';
import { plainSqlEvents } from '../../../dump/plain-sql-events.js';
import { openBackup } from '../../../dump/read-backup.js';
import {
  type ForeignKey,
  plainUniqueKeys,
  type UniqueKey,
  uniqueRuledColumns,
} from '../../../dump/unique-keys.js';
import { AbortedError, BadBackupError, ConfigError, RefreshError } from '../../../errors.js';
import { describeTarget, ident, type PgTarget, qualifiedName } from '../../../infra/pg/connection.js';
import { withClient } from '../../../infra/pg/with-client.js';
import { ToolFailedError } from '../../../infra/process/run-tool.js';
import type { Logger } from '../../../log/logger.js';
import {
  dblinkMatview,
  plainOutboundStatement,
  refreshedMatview,
} from '../../../neutralize/plain-statement.js';
import type { AnonymizeRecord } from '../../../record/run-record.js';
import type { ParsedStatement } from '../../../sql/parse-sql.js';
import { tableKey } from '../../../sql/table-key.js';
import {
  columnTypes,
  enforceFindings,
  type LeakSamples,
  loadColumns,
  rulesByTable,
} from '../anonymized-data.js';
import { classifyRestoreFailure } from '../restore-failure.js';
import { PsqlSession } from './psql-session.js';

export interface PlainRestoreInput {
  path: string;
  gzip: boolean;
  config: Config;
  next: PgTarget;
  log: Logger;
  signal: AbortSignal;
}

export interface PlainRestoreResult {
  anonymize: AnonymizeRecord;
  samples: LeakSamples;
  /** Tables the dump had data for. */
  tables: string[];
  sections: { name: string; durationMs: number }[];
}

/** What happens to a statement of the dump. */
export type StatementAction = 'keep' | 'drop' | 'keep-and-replay';

const DROPPED = new Set([
  'AlterOwnerStmt',
  'GrantStmt',
  'GrantRoleStmt',
  'AlterDefaultPrivilegesStmt',
  'CreatePublicationStmt',
  'AlterPublicationStmt',
  'CreateSubscriptionStmt',
  'AlterSubscriptionStmt',
  'SecLabelStmt',
  'CreatedbStmt',
  'DropdbStmt',
  'AlterDatabaseStmt',
  'AlterDatabaseSetStmt',
]);

/** pg_restore --no-owner --no-privileges --no-tablespaces … for one parsed statement. */
export function statementAction(statement: ParsedStatement): StatementAction {
  if (DROPPED.has(statement.kind)) return 'drop';
  const node = statement.node as {
    cmds?: { AlterTableCmd?: { subtype?: string } }[];
    name?: string;
    args?: unknown[];
  };
  if (statement.kind === 'AlterTableStmt') {
    const cmds = node.cmds ?? [];
    if (cmds.length > 0 && cmds.every((cmd) => cmd.AlterTableCmd?.subtype === 'AT_ChangeOwner'))
      return 'drop';
    return 'keep';
  }
  if (statement.kind === 'VariableSetStmt') {
    if (node.name === 'role' || node.name === 'session_authorization') return 'drop';
    if (node.name === 'default_tablespace' && !/^SET default_tablespace = ''$/i.test(statement.sql))
      return 'drop';
    return 'keep-and-replay';
  }
  if (statement.kind === 'SelectStmt' && /^SELECT pg_catalog\.set_config\(/i.test(statement.sql))
    return 'keep-and-replay';
  return 'keep';
}

interface CurrentCopy {
  table: string;
  columns: string[];
  skip: boolean;
  transform?: TableTransform;
  rows: number;
  started: number;
  /** Rows held back until the table's sampled values have passed the PII gate. */
  held?: string[];
}

/** Restores the plain dump into `next` (which exists and is empty). */
export async function restorePlain(input: PlainRestoreInput): Promise<PlainRestoreResult> {
  const { config, next, log } = input;
  const name = basename(input.path);
  let anonymize = config.anonymize;
  const prelude = config.target.owner ? `SET ROLE ${ident(config.target.owner)};\n` : '';
  const sections: PlainRestoreResult['sections'] = [];
  const replay: string[] = [];
  const tables: AnonymizeRecord['tables'] = [];
  const samples: LeakSamples = new Map();
  const seen = new Set<string>();
  const prf = KeyedPrf.of(anonymize.secret ?? '');
  let rules = rulesByTable(anonymize);
  // Masked columns with a unique key of their own are kept unique; a plain dump's keys follow its
  // data, so the file is read ahead for them while the pre-data section restores.
  const readAhead = performance.now();
  const stopReadAhead = new AbortController();
  const readAheadSignal = AbortSignal.any([input.signal, stopReadAhead.signal]);
  // Settled with the keys found even when the file breaks off (never rejected: it may not be awaited).
  const keysRead: Promise<{ keys: UniqueKey[]; foreign: ForeignKey[]; copied?: Set<string> }> =
    rules.size === 0
      ? Promise.resolve({ keys: [], foreign: [] })
      : plainUniqueKeys(input.path, input.gzip, readAheadSignal).then((read) => {
          if (read.incomplete !== undefined)
            log.warn(
              { uniqueKeys: read.keys.length, reason: read.incomplete },
              `reading ${name} ahead for its unique keys stopped early: masked columns past that point are not kept unique`,
            );
          else
            log.info(
              { uniqueKeys: read.keys.length, durationMs: Math.round(performance.now() - readAhead) },
              `read ${name} ahead for its unique keys (they follow the data)`,
            );
          // Stopped early, the tables past that point have COPYs it did not see: every table may
          // hold rows, as when nothing was read.
          return read.incomplete === undefined ? read : { keys: read.keys, foreign: read.foreign };
        });
  const uniqueKeysRead = keysRead.then((read) => read.keys);
  /** Whether the foreign keys were held against the rules (at the first ruled table's COPY). */
  let foreignChecked = false;
  let types = new Map<string, Map<string, string>>();
  const findings: AnonymizeRecord['findings'] = [];
  let toSample = new Map<string, string[]>();
  let section: 'pre-data' | 'data and post-data' = 'pre-data';
  let sectionStarted = performance.now();
  let session = new PsqlSession(next, input.signal);
  let current: CurrentCopy | undefined;
  let connects = 0;
  // #19: a blocking finding stops every write, but the dump is read on, so the error names every
  // unruled column (a plain dump only shows a table's values when its rows come by).
  let blocked = false;
  const unrefreshed = new Set<string>();
  // #19: large objects (lo_create, lowrite…): refused at first sight, dropped, or kept.
  let largeObjects = 0;
  let statistics = 0;
  let largeObjectNote: AnonymizeRecord['findings'][number] | undefined;
  const block = (found: AnonymizeRecord['findings']) => {
    findings.push(...found);
    if (blocked || !found.some((finding) => finding.severity === 'error')) return;
    blocked = true;
    // The schema still loads (the coverage check reads it); no row is written from now on.
    if (section !== 'pre-data') session.kill();
  };

  const finishSession = async () => {
    try {
      await session.finish();
    } catch (error) {
      throw classifyRestoreFailure(error, input.path, `${section} (psql)`, describeTarget(next));
    }
    sections.push({ name: section, durationMs: Math.round(performance.now() - sectionStarted) });
  };
  const write = async (text: string) => {
    if (blocked && section !== 'pre-data') return;
    await session.write(text);
    if (session.stopped) await finishSession(); // throws psql's error
  };
  /** Partitioned table → its partitions (read at the end of pre-data). */
  let partitions: ReadonlyMap<string, readonly string[]> = new Map();
  /** What the new database's schema says about each column (read at the end of pre-data). */
  let facts: ReadonlyMap<string, ColumnFacts> = new Map();
  /**
   * The rules checked against the schema, as for an archive (rule-fit.ts), but on no sampled
   * values (the rows come later, in one pass) and before the unique keys (they follow the data):
   * generated columns, NOT NULL, types. A partition key is judged at each COPY, which names the
   * partition itself or its root.
   */
  const plainRuleFit = (client: pg.Client, partitions: ReadonlyMap<string, readonly string[]>) =>
    ruleFitProblems(client, {
      tables: new Map(
        [...rulesByTable(anonymize)].filter(
          (entry): entry is [string, Record<string, ColumnRule>] =>
            entry[1] !== 'truncate' && Object.keys(entry[1]).length > 0,
        ),
      ),
      facts,
      uniqueKeys: [],
      parents: partitionParents(partitions),
      loadedViaRoot: new Set(rulesByTable(anonymize).keys()),
      samples: new Map(),
      prf,
      domain: anonymize.domain,
    });
  /** End of pre-data: the schema exists, the gate runs, data goes to a second session. */
  const startData = async () => {
    await finishSession();
    const { columns, problems } = await withClient(next, 'staging-refresh:restore', async (client) => {
      partitions = await loadPartitions(client);
      anonymize = expandPartitionRules(anonymize, partitions, await loadInheritance(client));
      facts = await loadColumnFacts(client);
      return { columns: await loadColumns(client), problems: await plainRuleFit(client, partitions) };
    });
    // The gate's verdict is told first (the file is read on to name every column it finds).
    block(checkCoverage(anonymize, columns));
    if (problems.length > 0 && !blocked) throw ruleFitError(problems);
    if (anonymize.sampleRows > 0)
      toSample = columnsToSample(anonymize, columns, new Set(findings.map((finding) => finding.column)));
    types = columnTypes(columns);
    rules = rulesByTable(anonymize);
    section = 'data and post-data';
    sectionStarted = performance.now();
    if (blocked) return;
    log.info({ section, database: next.database }, `restoring ${section}`);
    session = new PsqlSession(next, input.signal);
    await write(prelude + replay.join(''));
  };

  /** The table's first rows, sampled: written only when their values pass the gate. */
  const releaseHeld = async (copy: CurrentCopy) => {
    const held = copy.held ?? [];
    delete copy.held;
    const samples = columnValues(
      held.slice(0, anonymize.sampleRows),
      copy.columns,
      toSample.get(copy.table) ?? [],
    );
    block(valueFindings(anonymize, copy.table, samples));
    const { transform } = copy;
    const lines = transform ? held.map((line) => transform.line(line)) : held;
    if (lines.length > 0) await write(`${lines.join('\n')}\n`);
  };

  log.info({ section, database: next.database, format: 'plain' }, `restoring ${section}`);
  const source = openBackup(input.path, input.gzip);
  try {
    await write(prelude);
    for await (const event of plainSqlEvents(source as AsyncIterable<Buffer>, name)) {
      if (input.signal.aborted) throw new AbortedError(`restoring ${name} was stopped`);
      switch (event.type) {
        case 'sql': {
          let out = '';
          for (const statement of event.statements) {
            const action = statementAction(statement);
            if (action === 'drop') continue;
            // pg_dump 18's --statistics: production's values in its most common values and histograms.
            const restoresStatistics = statisticsCall(statement);
            if (restoresStatistics) {
              // Counted as an archive counts them: an entry a relation (its columns' with it).
              if (restoresStatistics === 'relation') statistics++;
              continue;
            }
            if (isLargeObjectStatement(statement.sql)) {
              if (/\blo_create\s*\(/i.test(statement.sql)) largeObjects++;
              if (anonymize.largeObjects === 'drop') continue;
              if (!largeObjectNote && largeObjects > 0) {
                largeObjectNote = largeObjectFinding(anonymize, largeObjects);
                if (largeObjectNote) block([largeObjectNote]);
              }
            }
            // #15: a materialized view over dblink is never populated (its REFRESH connects out).
            const overDblink = dblinkMatview(statement);
            if (overDblink) unrefreshed.add(overDblink);
            const refreshed = refreshedMatview(statement);
            if (refreshed && unrefreshed.has(refreshed)) continue;
            const outbound = plainOutboundStatement(statement); // #15: event triggers disabled at once
            if (outbound !== undefined) {
              out += outbound;
              continue;
            }
            if (statement.kind === 'InsertStmt') {
              if (section === 'pre-data') {
                await write(out);
                out = '';
                await startData();
              }
              checkInsert(statement, rules, name);
            }
            // Sent as UTF-8 whatever encoding the dump is in (plain-sql-events.ts transcodes it).
            const text = setsClientEncoding(statement)
              ? "SET client_encoding = 'UTF8';\n"
              : `${statement.sql};\n`;
            if (action === 'keep-and-replay' && section === 'pre-data') replay.push(text);
            out += text;
          }
          await write(out);
          break;
        }
        case 'meta':
          if (/^\\c(onnect)?\b/.test(event.line) && ++connects > 1) {
            throw new BadBackupError(
              `${name} connects to a second database at line ${event.lineNumber}: it looks like pg_dumpall output`,
              { hint: 'back up the one database with pg_dump; staging-refresh restores one database' },
            );
          }
          break;
        case 'copy-start': {
          if (section === 'pre-data') await startData();
          const table = tableKey(event.schema, event.table);
          seen.add(table);
          const rule = rules.get(table);
          current = {
            table,
            columns: event.columns,
            skip: rule === 'truncate',
            rows: 0,
            started: performance.now(),
            ...(toSample.has(table) && { held: [] }),
          };
          // Through a partitioned table (--load-via-partition-root): each partition's rows are
          // masked by its rules, which must then be this table's.
          // (Not once the PII gate has found columns: its findings are told, to the file's end.)
          const throughRoot = blocked ? [] : throughRootProblems(table, rules, partitions);
          if (throughRoot.length > 0) throw ruleFitError(throughRoot, true);
          // Into a partition itself (not through its root): its partition key must stay as it is.
          const keyProblems =
            rule && rule !== 'truncate' && !blocked ? partitionKeyProblems([[table, rule]], facts) : [];
          // The foreign keys, read ahead with the unique keys, at the first ruled table's COPY
          // (masked or truncated: a truncated table may still be referenced).
          if (rule !== undefined && !foreignChecked && !blocked) {
            foreignChecked = true;
            const read = await keysRead;
            keyProblems.push(
              ...foreignKeyProblems({
                rules,
                foreignKeys: read.foreign,
                partitions,
                facts,
                prf,
                domain: anonymize.domain,
                withData: read.copied && withPartitions(read.copied, partitions),
              }),
            );
          }
          if (keyProblems.length > 0) throw ruleFitError(keyProblems, true);
          if (rule && rule !== 'truncate') {
            current.transform = compileTableTransform(
              table,
              event.columns,
              rule,
              types.get(table) ?? new Map(),
              prf,
              anonymize.domain,
              new Set(uniqueRuledColumns(await uniqueKeysRead, table, rule)),
            );
          }
          if (!current.skip)
            await write(
              `COPY ${qualifiedName(event.schema, event.table)} (${event.columns.map(ident).join(', ')}) FROM stdin;\n`,
            );
          break;
        }
        case 'copy-data': {
          if (!current || current.skip) break;
          const { transform } = current;
          current.rows += event.lines.length;
          if (current.held) {
            current.held.push(...event.lines);
            if (current.held.length < anonymize.sampleRows) break;
            await releaseHeld(current);
            break;
          }
          const lines = transform ? event.lines.map((line) => transform.line(line)) : event.lines;
          await write(`${lines.join('\n')}\n`);
          break;
        }
        case 'copy-end': {
          if (!current) break;
          if (current.held) await releaseHeld(current);
          if (!current.skip) await write('\\.\n');
          if (current.transform) {
            const seconds = Math.max((performance.now() - current.started) / 1000, 0.001);
            tables.push({
              name: current.table,
              rows: current.rows,
              rowsPerSecond: Math.round(current.rows / seconds),
            });
            samples.set(current.table, current.transform.leakSample());
          }
          current = undefined;
          break;
        }
      }
    }
    if (section === 'pre-data') await startData();
    // The count is known at the end: the finding says how many.
    if (largeObjectNote) Object.assign(largeObjectNote, largeObjectFinding(anonymize, largeObjects));
    if (blocked) enforceFindings(findings); // throws: every finding of the whole dump
    await finishSession();
  } catch (error) {
    session.kill();
    source.destroy();
    if (error instanceof RefreshError) throw error;
    if (error instanceof ToolFailedError)
      throw classifyRestoreFailure(error, input.path, section, describeTarget(next));
    if (input.signal.aborted) throw new AbortedError(`restoring ${name} was stopped`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code?.startsWith('Z_') || /unexpected end of file|incorrect header check/i.test(String(error))) {
      throw new BadBackupError(`${name} is a corrupt or truncated gzip file: ${(error as Error).message}`, {
        cause: error,
        hint: 'the live staging database was not touched; check the backup job or use an older backup',
      });
    }
    throw error;
  } finally {
    // Still reading when no table had data, or when the restore failed before its first table's.
    stopReadAhead.abort();
  }
  for (const [table, rule] of rules)
    if (rule === 'truncate') tables.push({ name: table, rows: 0, rowsPerSecond: 0 });
  return {
    anonymize: {
      tables: tables.sort((a, b) => a.name.localeCompare(b.name)),
      findings,
      ...(largeObjects > 0 && {
        largeObjects: { count: largeObjects, action: anonymize.largeObjects === 'drop' ? 'dropped' : 'kept' },
      }),
      ...(statistics > 0 && { statistics: { entries: statistics, action: 'not-restored' as const } }),
    },
    samples,
    tables: [...seen].sort(),
    sections,
  };
}

/**
 * A plain dump taken with --load-via-partition-root COPYs every partition's rows into the
 * partitioned table at its top, where they cannot be told apart: the rules that differ from that
 * table's, partition by partition (none when all match).
 */
function throughRootProblems(
  table: string,
  rules: ReadonlyMap<string, Readonly<Record<string, ColumnRule>> | 'truncate'>,
  partitions: ReadonlyMap<string, readonly string[]>,
): string[] {
  const below = partitions.get(table);
  if (!below) return [];
  const spelled = (value: Readonly<Record<string, ColumnRule>> | 'truncate' | undefined) =>
    value === undefined || value === 'truncate'
      ? String(value)
      : Object.entries(value)
          .map(([column, rule]) => `${column}: ${describeRule(rule)}`)
          .sort()
          .join(', ');
  const own = spelled(rules.get(table));
  return below
    .filter((partition) => !partitions.has(partition) && spelled(rules.get(partition)) !== own)
    .map(
      (partition) =>
        `anonymize.tables.${partition} (${spelled(rules.get(partition))}): this plain dump loads the rows of ${partition} through ${table} (pg_dump --load-via-partition-root), where they cannot be told apart from its other partitions' rows, masked by ${table}'s rules (${own}) — put these rules on ${table} for every partition, or take the backup in the custom format, which keeps each partition's rows apart`,
    );
}

/** INSERT-style data cannot be masked in the stream; it is refused for tables with rules. */
function checkInsert(statement: ParsedStatement, rules: ReadonlyMap<string, unknown>, name: string): void {
  const relation = (statement.node as { relation?: { schemaname?: string; relname?: string } }).relation;
  const table = `${relation?.schemaname ?? 'public'}.${relation?.relname ?? ''}`;
  if (rules.has(table)) {
    throw new ConfigError(
      `${name} holds its rows of ${table} as INSERT statements (pg_dump --inserts), which cannot be masked in the stream`,
      [`anonymize.tables.${table}: its data is INSERT statements at line ${statement.line}`],
      {
        hint: 'produce the plain dump without --inserts/--column-inserts (COPY is the default); nothing was restored',
      },
    );
  }
}

/** `SET client_encoding …`: the dump's encoding, which the text sent on to psql no longer is. */
function setsClientEncoding(statement: ParsedStatement): boolean {
  return (
    statement.kind === 'VariableSetStmt' && String(statement.node.name).toLowerCase() === 'client_encoding'
  );
}

/**
 * The tables that may hold rows: those the dump COPYs into, and every partition of a table it
 * COPYs into (a dump taken --load-via-partition-root loads each partition through its root).
 */
function withPartitions(
  copied: ReadonlySet<string>,
  partitions: ReadonlyMap<string, readonly string[]>,
): Set<string> {
  const tables = new Set(copied);
  for (const table of copied) for (const leaf of partitions.get(table) ?? []) tables.add(leaf);
  return tables;
}
