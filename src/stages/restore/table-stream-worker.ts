// A worker thread that streams one masked table from the archive into the new database, all of
// it: `pg_restore --data-only -t … -f -` → COPY text lines masked one by one → `COPY … FROM
// STDIN` on its own connection. The main thread only starts it and reads its one answer, so no
// row crosses between threads (copying each chunk there and back, and encoding it in the main
// thread, measured ~3 s of CPU on the bench's 3.5M rows). Unmasked values exist only in this
// thread's memory, never on staging disk.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CopyLines } from '../../anonymize/copy-lines.js';
import type { TableLeakSample } from '../../anonymize/leak-sampler.js';
import { KeyRecorder, OutputLedger, takeKeys } from '../../anonymize/output-ledger.js';
import { KeyedPrf } from '../../anonymize/prf/keyed-prf.js';
import type { ColumnRule } from '../../anonymize/strategies/registry.js';
import { compileTableTransform } from '../../anonymize/table-transform.js';
import { MaskCollisionError } from '../../anonymize/unique-masker.js';
import type { DirectTableRead } from '../../dump/custom-archive.js';
import { DumpEncodingError } from '../../dump/dump-encoding.js';
import { RefreshError } from '../../errors.js';
import { isLocalWriteError } from '../../infra/fs/work-dir-error.js';
import { ident, libpqEnv, type PgTarget, qualifiedName } from '../../infra/pg/connection.js';
import type { PgErrorFields } from '../../infra/pg/pg-errors.js';
import { connect } from '../../infra/pg/with-client.js';
import { type TableName, tableKey } from '../../sql/table-key.js';
import { BlockMasker, InOrderBlocks } from './block-masker.js';
import { ArchiveReadError, openTableData } from './table-data-source.js';
import { repairUniqueOutputs, UniqueRepairError } from './unique-repair.js';

/** What the worker is started with (structured-clone safe). */
export interface TableStreamData {
  archive: string;
  /** The pg_restore binary. */
  pgRestore: string;
  target: PgTarget;
  schema: string;
  table: string;
  /** The archive has a TABLE DATA entry for it: pg_restore must print a COPY block. */
  hasData: boolean;
  rules: Record<string, ColumnRule>;
  types: [string, string][];
  secret: string;
  domain: string;
  /** Ruled columns with a unique key of their own. */
  unique: string[];
  /** The restore's shared thread budget (block-masker.ts): helpers may share a big table. */
  threads?: SharedArrayBuffer | undefined;
  /** Input after which the table counts as big enough for helpers (block-masker.ts's default when absent). */
  helpersAfterBytes?: number | undefined;
  /** Where the table's data block is when this process reads it (custom-archive.ts); else pg_restore. */
  direct?: DirectTableRead | undefined;
  /**
   * The table the archive COPYs the rows into when not this one: a partition dumped with
   * --load-via-partition-root names its root, and PostgreSQL routes each row by its partition key
   * (the key, masked, may belong in another partition), as pg_restore would load it.
   */
  copyInto?: TableName | undefined;
  /** Where a unique masked column's ledger is written (the run's scratch directory); the OS's temp directory when absent. */
  scratch?: string | undefined;
}

/** Why a stream failed, in terms the main thread turns into the tool's errors. */
export type TableStreamFailure =
  | { kind: 'aborted' }
  /** pg_restore failed, its data ended inside the table or never began: the archive is bad. */
  | { kind: 'archive'; problem: string; stderr: string }
  /** The server could not be reached. */
  | { kind: 'connect'; error: PgErrorFields }
  /** A unique column's masked values collided and re-keying could not separate them. */
  | { kind: 'collision'; message: string }
  /** Writing a unique masked column's ledger in the scratch directory failed (full, read-only). */
  | { kind: 'scratch'; message: string; code: string }
  /** Re-keying a unique masked column after the load could not find the rows it planned to change. */
  | { kind: 'repair'; message: string }
  /** Text the backup's encoding says this tool cannot read (dump-encoding.ts). */
  | { kind: 'encoding'; message: string }
  /** Loading failed: the server refused a value or went away, or a rule could not mask a row. */
  | { kind: 'load'; error: PgErrorFields };

/** The worker's one answer. */
export type TableStreamReply =
  | {
      ok: true;
      rows: number;
      durationMs: number;
      samples: TableLeakSample;
      helpers: number;
      /** Rows the helpers masked (the rest were masked by the stream's own thread). */
      helperRows: number;
      /** Rows re-keyed after the load (unique-repair.ts). */
      rekeyed: number;
    }
  | { ok: false; failure: TableStreamFailure };

const pgFields = (error: unknown): PgErrorFields => {
  const raw = (error instanceof RefreshError ? error.cause : error) as Partial<PgErrorFields> | undefined;
  return {
    message: raw?.message ?? String(error),
    ...(raw?.code !== undefined && { code: raw.code }),
    ...(raw?.detail !== undefined && { detail: raw.detail }),
    ...(raw?.hint !== undefined && { hint: raw.hint }),
    ...(raw?.where !== undefined && { where: raw.where }),
  };
};

/** Streams one table (in whichever thread calls it: a pool worker, or the main thread while none is ready). */
export async function streamTableData(data: TableStreamData, signal: AbortSignal): Promise<TableStreamReply> {
  const started = performance.now();
  const fail = (failure: TableStreamFailure): TableStreamReply => ({ ok: false, failure });
  let client: pg.Client;
  try {
    client = await connect(data.target, 'staging-refresh:anonymize');
  } catch (error) {
    return fail({ kind: 'connect', error: pgFields(error) });
  }
  /** Where the rows go: the table, or the root the archive loads it through. */
  const into = data.copyInto
    ? qualifiedName(data.copyInto.schema, data.copyInto.table)
    : qualifiedName(data.schema, data.table);
  // Like pg_restore for a table it created, load inside a transaction that first truncates the
  // (empty) table: with wal_level=minimal the rows skip the WAL, and COPY may FREEZE them — the
  // pages are written frozen and all-visible, so the index builds and ANALYZE after it do not
  // rewrite every page to set hint bits. A partitioned table can be neither.
  let freeze: boolean;
  try {
    const relkind = await client.query<{ relkind: string }>(
      'SELECT relkind FROM pg_class WHERE oid = $1::regclass',
      [into],
    );
    freeze = relkind.rows[0]?.relkind === 'r';
  } catch (error) {
    await client.end().catch(() => undefined);
    return fail({ kind: 'load', error: pgFields(error) });
  }
  const source = openTableData({ ...data, env: libpqEnv(data.target) }, signal);
  let copy: ReturnType<typeof copyFrom> | undefined;
  // A failed COPY stream emits 'error' once, possibly while nothing waits on it: keep it, and
  // stop any wait for 'drain' (as a stop does).
  let copyError: Error | undefined;
  const copyFailed = new AbortController();
  const stopWaiting = AbortSignal.any([signal, copyFailed.signal]);
  let masker: BlockMasker | undefined;
  // A unique masked column's outputs go to a ledger on disk, not a table in memory; the rows the
  // stream's order says to re-key are re-keyed after it (unique-repair.ts). Not where the rows go
  // through a partitioned root, which routes each row: the partition's rows may be in its
  // siblings, and its own rows cannot be found again — those keep the table in memory.
  const byLedger = data.unique.length > 0 && !data.copyInto;
  const ledgers = new Map<string, OutputLedger>();
  const recorders = new Map<string, KeyRecorder>();
  const compile = (columns: string[], record: boolean) =>
    compileTableTransform(
      tableKey(data.schema, data.table),
      columns,
      data.rules,
      new Map(data.types),
      KeyedPrf.of(data.secret),
      data.domain,
      new Set(data.unique),
      byLedger
        ? {
            ledger: (column) => {
              if (!record) return undefined;
              ledgers.set(
                column,
                new OutputLedger(join(data.scratch ?? tmpdir(), `unique-${randomUUID()}.ledger`)),
              );
              const recorder = new KeyRecorder();
              recorders.set(column, recorder);
              return recorder;
            },
          }
        : undefined,
    );
  try {
    const lines = new CopyLines((columns) => compile(columns, true));
    masker = new BlockMasker(lines, {
      splittable: byLedger || data.unique.length === 0,
      keys: () => takeKeys(recorders),
      budget: data.threads,
      helpersAfterBytes: data.helpersAfterBytes,
      setup: (columns) => ({
        table: tableKey(data.schema, data.table),
        columns,
        rules: data.rules,
        types: data.types,
        secret: data.secret,
        domain: data.domain,
        unique: data.unique,
      }),
    });
    // Masked blocks in row order; a block at a helper is a promise until it comes back.
    const blocks = new InOrderBlocks(masker, async ({ out, keys }) => {
      if (copyError) throw copyError;
      // The unique masked columns' keys, in the order the rows are written.
      if (keys) for (const [column, taken] of Object.entries(keys)) ledgers.get(column)?.append(taken);
      if (out.length > 0 && copy && !copy.write(out)) {
        await once(copy, 'drain', { signal: stopWaiting }).catch((error: unknown) => {
          throw copyError ?? error;
        });
      }
    });
    let columns: string[] = [];
    for await (const chunk of source.chunks) {
      const { spans, header } = lines.cut(chunk);
      if (header) {
        columns = header;
        if (freeze) {
          await client.query('BEGIN');
          await client.query(`TRUNCATE ONLY ${into}`);
        }
        copy = client.query(
          copyFrom(
            `COPY ${into} (${header.map(ident).join(', ')}) FROM STDIN${freeze ? ' WITH (FREEZE)' : ''}`,
          ),
        );
        copy.on('error', (error: Error) => {
          copyError ??= error;
          copyFailed.abort();
        });
      }
      if (copyError) throw copyError;
      for (const span of spans) blocks.push(masker.submit(span, columns));
      await blocks.flush(false);
    }
    await blocks.flush(true);
    const failed = await source.finish();
    if (signal.aborted) return fail({ kind: 'aborted' });
    const problem =
      failed?.problem ??
      (lines.inData
        ? 'the data ended mid-table'
        : data.hasData && !lines.transform
          ? `${data.direct ? 'the archive held' : 'pg_restore printed'} no COPY data for it`
          : undefined);
    if (problem) return fail({ kind: 'archive', problem, stderr: failed?.stderr ?? '' });
    if (copy) {
      if (copyError) throw copyError;
      const finished = once(copy, 'finish');
      copy.end();
      await finished;
    }
    const own = lines.transform?.leakSample() ?? { keyColumns: [], checkedColumns: [], rows: [] };
    // The helpers' shares now, and their cores back before the repair.
    const samples = await masker.finish(own);
    const helpers = masker.helperCount;
    await masker.close();
    let rekeyed = 0;
    if (copy) {
      if (ledgers.size > 0)
        rekeyed = await repairUniqueOutputs({
          client,
          table: tableKey(data.schema, data.table),
          target: into,
          columns,
          ledgers: new Map([...ledgers].map(([column, ledger]) => [column, ledger.close()])),
          rules: data.rules,
          types: new Map(data.types),
          prf: KeyedPrf.of(data.secret),
          domain: data.domain,
          plain: () => compile(columns, false),
          reread: () => openTableData({ ...data, env: libpqEnv(data.target) }, signal),
        });
      if (freeze) await client.query('COMMIT');
    }
    return {
      ok: true,
      rows: lines.rows + masker.helperRows,
      durationMs: performance.now() - started,
      samples,
      helpers,
      helperRows: masker.helperRows,
      rekeyed,
    };
  } catch (error) {
    if (signal.aborted) return fail({ kind: 'aborted' });
    if (error instanceof DumpEncodingError) return fail({ kind: 'encoding', message: error.message });
    if (error instanceof ArchiveReadError)
      return fail({ kind: 'archive', problem: error.message, stderr: '' });
    if (error instanceof MaskCollisionError) return fail({ kind: 'collision', message: error.message });
    if (error instanceof UniqueRepairError) return fail({ kind: 'repair', message: error.message });
    if (isLocalWriteError(error) || inScratch(error, data.scratch ?? tmpdir()))
      return fail({
        kind: 'scratch',
        message: (error as Error).message,
        code: (error as NodeJS.ErrnoException).code ?? '',
      });
    return fail({ kind: 'load', error: pgFields(copyError ?? error) });
  } finally {
    source.stop();
    for (const ledger of ledgers.values()) {
      try {
        ledger.remove();
      } catch {
        // Left in the run's scratch directory, which goes with the run.
      }
    }
    await masker?.close();
    copy?.destroy();
    await client.end().catch(() => undefined);
  }
}

/** A file error on a path in the scratch directory (the ledger's: not there, not allowed, too many open). */
function inScratch(error: unknown, scratch: string): boolean {
  const path = (error as NodeJS.ErrnoException | undefined)?.path;
  return typeof path === 'string' && path.startsWith(scratch);
}

/** What the pool sends a worker: a table to stream, or a stop for the one it is streaming. */
export type TableStreamRequest = { job: TableStreamData } | { abort: true };

// One worker streams many tables, one at a time (stream-worker-pool.ts): its start-up — the
// loader, faker's locale data, the driver — is paid once per worker, not once per table.
if (parentPort) {
  const port = parentPort;
  let controller = new AbortController();
  port.on('message', (message: TableStreamRequest) => {
    if ('abort' in message) {
      controller.abort();
      return;
    }
    controller = new AbortController();
    void streamTableData(message.job, controller.signal).then(
      (reply) => port.postMessage(reply),
      (error: unknown) => port.postMessage({ ok: false, failure: { kind: 'load', error: pgFields(error) } }),
    );
  });
  port.postMessage({ ready: true });
}
