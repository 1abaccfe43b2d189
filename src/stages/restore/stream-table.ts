// Streams one table from the archive through its transform into the new database, on a worker
// thread of the pool (table-stream-worker.ts does the work); this side hands it the table, passes
// on a stop, and turns its answer into the tool's errors.

import { tmpdir } from 'node:os';
import type { TableLeakSample } from '../../anonymize/leak-sampler.js';
import type { ColumnRule } from '../../anonymize/strategies/registry.js';
import type { DirectTableRead } from '../../dump/custom-archive.js';
import { DumpEncodingError } from '../../dump/dump-encoding.js';
import {
  AbortedError,
  BadBackupError,
  LocalIoError,
  RefreshError,
  RunFailedError,
  UnavailableError,
} from '../../errors.js';
import { workDirError } from '../../infra/fs/work-dir-error.js';
import { describeTarget, type PgTarget } from '../../infra/pg/connection.js';
import { pgTool } from '../../infra/pg/pg-bin.js';
import { type PgErrorFields, wrapPgError } from '../../infra/pg/pg-errors.js';
import { type TableName, tableKey } from '../../sql/table-key.js';
import { StreamWorkerPool } from './stream-worker-pool.js';
import type { TableStreamData, TableStreamFailure } from './table-stream-worker.js';

export interface StreamTableInput {
  archive: string;
  target: PgTarget;
  schema: string;
  table: string;
  /** The archive has a TABLE DATA entry for it. */
  hasData: boolean;
  /** The table's rules, column types, and what keys and shapes the masked values. */
  rules: Record<string, ColumnRule>;
  types: ReadonlyMap<string, string>;
  secret: string;
  domain: string;
  /** Ruled columns with a unique key of their own. */
  unique: string[];
  signal: AbortSignal;
  /** Workers to stream on (reused across tables); a one-off worker when absent. */
  pool?: StreamWorkerPool | undefined;
  /** The restore's thread budget (block-masker.ts); no helpers without one. */
  threads?: SharedArrayBuffer | undefined;
  /** Input after which the table takes helpers (block-masker.ts's default when absent). */
  helpersAfterBytes?: number | undefined;
  /** The table's data block, read by the worker itself (custom-archive.ts); pg_restore when absent. */
  direct?: DirectTableRead | undefined;
  /** The table the archive COPYs the rows into when not this one (a partition's root). */
  copyInto?: TableName | undefined;
  /** Where a unique masked column's ledger is written (output-ledger.ts). */
  scratch?: string | undefined;
}

export interface StreamTableResult {
  rows: number;
  durationMs: number;
  samples: TableLeakSample;
  /** Helper threads that masked part of it. */
  helpers: number;
  /** Rows those helpers masked. */
  helperRows: number;
  /** Rows of its unique masked columns re-keyed after the load. */
  rekeyed: number;
}

/** Restores one table's data through its transform. */
export async function streamTable(input: StreamTableInput): Promise<StreamTableResult> {
  if (input.signal.aborted) throw stopped(input);
  const data: TableStreamData = {
    archive: input.archive,
    pgRestore: pgTool('pg_restore'),
    target: input.target,
    schema: input.schema,
    table: input.table,
    hasData: input.hasData,
    rules: input.rules,
    types: [...input.types],
    secret: input.secret,
    domain: input.domain,
    unique: input.unique,
    threads: input.threads,
    helpersAfterBytes: input.helpersAfterBytes,
    direct: input.direct,
    copyInto: input.copyInto,
    scratch: input.scratch,
  };
  const pool = input.pool ?? new StreamWorkerPool();
  if (!input.pool) pool.warm(1);
  try {
    const reply = await pool.run(data, input.signal);
    if (reply.ok)
      return {
        rows: reply.rows,
        durationMs: reply.durationMs,
        samples: reply.samples,
        helpers: reply.helpers,
        helperRows: reply.helperRows,
        rekeyed: reply.rekeyed,
      };
    throw toError(input, reply.failure);
  } finally {
    if (!input.pool) await pool.close();
  }
}

const stopped = (input: StreamTableInput) =>
  new AbortedError(`streaming ${input.schema}.${input.table} was stopped`);

function toError(input: StreamTableInput, failure: TableStreamFailure): RefreshError {
  switch (failure.kind) {
    case 'aborted':
      return stopped(input);
    case 'archive':
      return new BadBackupError(
        `the backup is damaged: ${input.archive}: could not read the rows of ${tableKey(input.schema, input.table)} (${failure.problem}):\n${failure.stderr}`,
        { hint: 'the archive is corrupt or truncated; the live staging database was not touched' },
      );
    case 'encoding':
      return new DumpEncodingError(`${tableKey(input.schema, input.table)}: ${failure.message}`);
    case 'scratch': {
      const dir = input.scratch ?? tmpdir();
      const full = workDirError(Object.assign(new Error(failure.message), { code: failure.code }), dir);
      if (full instanceof RefreshError) return full;
      return new LocalIoError(
        `writing the ledger of ${tableKey(input.schema, input.table)}'s unique masked column in ${dir} failed: ${failure.message}`,
        {
          hint: 'check the work dir’s volume (writable, not failing); the live staging database was not touched',
        },
      );
    }
    case 'repair':
      return new RunFailedError('anonymize-repair-failed', failure.message, {
        hint: 'the rows to re-key were not where the load put them: report this with the run record; the live staging database was not touched',
      });
    case 'collision':
      return new RunFailedError('anonymize-not-unique', failure.message, {
        hint: 'use a keyed strategy that keeps the column unique (hash); the live staging database was not touched',
      });
    case 'connect':
      return wrapPgError(failure.error, 'connecting', describeTarget(input.target));
    case 'load':
      return copyFailure(input, failure.error);
  }
}

function copyFailure(input: StreamTableInput, error: PgErrorFields): RefreshError {
  const doing = `loading masked rows into ${input.schema}.${input.table}`;
  const lost = wrapPgError(error, doing, describeTarget(input.target));
  if (lost instanceof UnavailableError) return lost;
  // Rows routed through a partitioned root by a masked partition key (--load-via-partition-root).
  const routing = /no partition of relation|violates partition constraint/.test(error.message);
  return new RunFailedError('anonymize-copy-failed', `${doing} failed: ${error.message}`, {
    cause: error,
    hint: routing
      ? 'a masked partition key belongs in no partition: add a partition (or a DEFAULT one) that covers the masked values, or keep the key column (anonymize.keep); the live staging database was not touched'
      : 'a rule produced a value the column does not accept (type or length): pick a strategy that fits the column type',
  });
}
