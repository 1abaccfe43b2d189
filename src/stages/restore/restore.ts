// restore: builds `<db>__next` from the archive — pre-data, data (-j), post-data (-j), then
// ANALYZE so migrations plan as they would in production. The live database is never touched.

import { mkdir } from 'node:fs/promises';
import type { Config } from '../../config/schema.js';
import { BadBackupError, RunFailedError, UnavailableError } from '../../errors.js';
import { describeTarget, libpqEnv, type PgTarget } from '../../infra/pg/connection.js';
import { createDatabase, dropDatabaseForce } from '../../infra/pg/databases.js';
import { pgTool } from '../../infra/pg/pg-bin.js';
import { withClient } from '../../infra/pg/with-client.js';
import { runTool, ToolFailedError } from '../../infra/process/run-tool.js';
import type { Logger } from '../../log/logger.js';
import type { AnonymizeRecord, RestoredTable, RestoreRecord } from '../../pipeline/run-record.js';
import type { TocEntry } from '../inspect/toc.js';
import { type LeakSamples, loadColumns, restoreAnonymizedData } from './anonymize/anonymized-data.js';
import { pgRestoreArgs, type RestoreSection } from './pg-restore-args.js';

export interface RestoreInput {
  archive: string;
  /** pg_restore --list output and its parsed entries (from inspect). */
  listing: string;
  entries: readonly TocEntry[];
  config: Config;
  next: PgTarget;
  maintenance: PgTarget;
  log: Logger;
  signal: AbortSignal;
  /** Called once `__next` exists, so the runner knows it must be dropped on failure. */
  onCreated?: () => void;
}

export interface RestoreResult {
  record: RestoreRecord;
  anonymize: AnonymizeRecord;
  /** Original values sampled from the archive stream, for the no-leak check. */
  samples: LeakSamples;
}

/** Restores the archive into a fresh `__next` database, masking in the stream. */
export async function restoreArchive(input: RestoreInput): Promise<RestoreResult> {
  const { config, next, log } = input;
  await withClient(input.maintenance, 'staging-refresh:restore', async (client) => {
    if (await dropDatabaseForce(client, next.database)) {
      log.warn({ database: next.database }, 'dropped a leftover database from an earlier run');
    }
    await createDatabase(client, next.database, config.target.owner);
  });
  input.onCreated?.();

  const sections: RestoreRecord['sections'] = [];
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    log.info({ section: name, database: next.database }, `restoring ${name}`);
    const result = await work();
    sections.push({ name, durationMs: Math.round(performance.now() - started) });
    return result;
  };
  await timed('pre-data', () => runPgRestore(input, 'pre-data', undefined, input.signal));
  const columns = await withClient(next, 'staging-refresh:restore', loadColumns);
  await mkdir(config.workDir, { recursive: true });
  const data = await timed('data', () =>
    restoreAnonymizedData({
      config,
      archive: input.archive,
      listing: input.listing,
      entries: input.entries,
      columns,
      next,
      workDir: config.workDir,
      signal: input.signal,
      restoreData: (listFile, signal) => runPgRestore(input, 'data', listFile, signal),
    }),
  );
  await timed('post-data', () => runPgRestore(input, 'post-data', undefined, input.signal));

  const analyzeStarted = performance.now();
  await runTool({
    file: pgTool('vacuumdb'),
    args: ['--analyze-only', `--jobs=${config.target.jobs}`, `--dbname=${next.database}`],
    env: libpqEnv(next),
    signal: input.signal,
  });
  sections.push({ name: 'analyze', durationMs: Math.round(performance.now() - analyzeStarted) });

  const tables = await tableStats(next);
  return {
    record: {
      database: next.database,
      tables,
      sections,
      bytes: tables.reduce((sum, table) => sum + table.bytes, 0),
      rowsSource: 'analyze',
    },
    anonymize: data.record,
    samples: data.samples,
  };
}

async function runPgRestore(
  input: RestoreInput,
  section: RestoreSection,
  listFile: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  const args = pgRestoreArgs({
    archive: input.archive,
    database: input.next.database,
    section,
    jobs: input.config.target.jobs,
    role: input.config.target.owner,
    listFile,
  });
  try {
    await runTool({ file: pgTool('pg_restore'), args, env: libpqEnv(input.next), signal });
  } catch (error) {
    throw classifyRestoreFailure(error, input.archive, section, describeTarget(input.next));
  }
}

/** A pg_restore failure is bad data, an unreachable server, or a failed run. */
export function classifyRestoreFailure(
  error: unknown,
  archive: string,
  section: string,
  where: string,
): Error {
  if (!(error instanceof ToolFailedError)) return error as Error;
  const said = error.stderrTail;
  if (
    /could not connect|connection to server .* failed|server closed the connection|terminating connection/i.test(
      said,
    )
  ) {
    return new UnavailableError(
      `restoring ${section} of ${archive} into ${where}: lost the server: ${said}`,
      {
        cause: error,
        hint: 'check the staging server; the live database was not touched and the next run starts over',
      },
    );
  }
  if (
    /could not read input file|unexpected end of file|end of file|did not find magic|corrupt|could not uncompress|invalid|not a valid archive|could not find block/i.test(
      said,
    )
  ) {
    return new BadBackupError(`${archive} is corrupt or truncated: pg_restore (${section}) said:\n${said}`, {
      cause: error,
      hint: 'the live staging database was not touched; check the backup job or use an older backup',
    });
  }
  return new RunFailedError(
    'restore-failed',
    `pg_restore (${section}) of ${archive} into ${where} failed:\n${said}`,
    {
      cause: error,
      hint: 'the live staging database was not touched; a missing extension or role on the staging server is a common cause',
    },
  );
}

async function tableStats(target: PgTarget): Promise<RestoredTable[]> {
  return withClient(target, 'staging-refresh:restore-stats', async (client) => {
    const result = await client.query<{ name: string; rows: string; bytes: string }>(`
      SELECT n.nspname || '.' || c.relname AS name,
             greatest(c.reltuples, 0)::bigint AS rows,
             pg_total_relation_size(c.oid) AS bytes
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'm')
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
       ORDER BY pg_total_relation_size(c.oid) DESC, 1`);
    return result.rows.map((row) => ({ name: row.name, rows: Number(row.rows), bytes: Number(row.bytes) }));
  });
}
