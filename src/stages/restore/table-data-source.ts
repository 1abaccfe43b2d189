// Where a masked table's COPY text comes from: the archive's data block read in this process
// (custom-archive.ts), or `pg_restore --data-only -t … -f -` in a child; as UTF-8 either way
// (dump-encoding.ts). The restore's worker and the bench read through the same function.
import { execa } from 'execa';
import { type DirectTableRead, readTableData } from '../../dump/custom-archive.js';
import { DumpEncodingError, utf8Chunks } from '../../dump/dump-encoding.js';
import { tableDataArgs } from '../../dump/pg-restore-args.js';
import { batched } from '../../infra/process/batched.js';
import { tail } from '../../infra/process/run-tool.js';

/** The table's COPY text as chunks, from the archive itself or from pg_restore. */
export interface TableDataSource {
  chunks: AsyncIterable<Buffer>;
  /** Once the chunks are read: what went wrong reading them, if anything. */
  finish(): Promise<{ problem: string; stderr: string } | undefined>;
  stop(): void;
}

/** A failure reading the archive directly (not the server's, not a rule's). */
export class ArchiveReadError extends Error {}

export function openTableData(
  data: {
    archive: string;
    pgRestore: string;
    schema: string;
    table: string;
    direct?: DirectTableRead | undefined;
    /** pg_restore's environment (the target's libpq variables). */
    env?: Record<string, string | undefined>;
  },
  signal: AbortSignal,
): TableDataSource {
  const { direct } = data;
  if (direct) {
    const read = async function* () {
      try {
        yield* utf8Chunks(readTableData(data.archive, direct, signal), direct.encoding ?? 'UTF8');
      } catch (error) {
        // Stopped, or text this tool cannot read in the backup's encoding: not a damaged archive.
        if (signal.aborted || error instanceof DumpEncodingError) throw error;
        throw new ArchiveReadError((error as Error).message, { cause: error });
      }
    };
    return { chunks: batched(read()), finish: async () => undefined, stop: () => undefined };
  }
  // Read from the moment it is spawned: execa drains an output nobody reads.
  const child = execa(data.pgRestore, tableDataArgs(data.archive, data.schema, data.table), {
    ...(data.env && { env: data.env }),
    cancelSignal: signal,
    buffer: { stdout: false, stderr: true },
    reject: false,
    stdin: 'ignore',
  });
  return {
    chunks: batched(utf8Chunks(child.stdout as AsyncIterable<Buffer>)),
    finish: async () => {
      const result = await child;
      return result.failed
        ? { problem: 'pg_restore failed', stderr: tail(String(result.stderr ?? ''), 10) }
        : undefined;
    },
    stop: () => child.kill(),
  };
}
