// Streams one table from the archive through its transform into the new database:
// `pg_restore --data-only -n schema -t table -f -` → COPY text lines masked one by one →
// `COPY … FROM STDIN`. Unmasked values exist only in this process's memory, never on staging disk.
import { once } from 'node:events';
import { execa } from 'execa';
import { from as copyFrom } from 'pg-copy-streams';
import {
  AbortedError,
  BadBackupError,
  RefreshError,
  RunFailedError,
  UnavailableError,
} from '../../../errors.js';
import {
  describeTarget,
  ident,
  libpqEnv,
  type PgTarget,
  qualifiedName,
} from '../../../infra/pg/connection.js';
import { pgTool } from '../../../infra/pg/pg-bin.js';
import { wrapPgError } from '../../../infra/pg/pg-errors.js';
import { connect } from '../../../infra/pg/with-client.js';
import { tail } from '../../../infra/process/run-tool.js';
import { parseCopyHeader } from './copy-text.js';
import type { TableTransform } from './table-transform.js';

export interface StreamTableInput {
  archive: string;
  target: PgTarget;
  schema: string;
  table: string;
  /** Builds the transform once the COPY header has told the column order. */
  transformFor: (columns: string[]) => TableTransform;
  signal: AbortSignal;
}

export interface StreamTableResult {
  rows: number;
  durationMs: number;
  samples: Map<string, string[]>;
}

function copyFailure(input: StreamTableInput, error: Error): Error {
  const lost = wrapPgError(
    error,
    `loading masked rows into ${input.schema}.${input.table}`,
    describeTarget(input.target),
  );
  if (lost instanceof UnavailableError) return lost;
  return new RunFailedError(
    'anonymize-copy-failed',
    `loading masked rows into ${input.schema}.${input.table} failed: ${error.message}`,
    {
      cause: error,
      hint: 'a rule produced a value the column does not accept (type or length): pick a strategy that fits the column type',
    },
  );
}

/** Restores one table's data through its transform. */
export async function streamTable(input: StreamTableInput): Promise<StreamTableResult> {
  const started = performance.now();
  const client = await connect(input.target, 'staging-refresh:anonymize');
  const child = execa(
    pgTool('pg_restore'),
    ['--data-only', `--schema=${input.schema}`, `--table=${input.table}`, '--file=-', input.archive],
    {
      env: libpqEnv(input.target),
      cancelSignal: input.signal,
      buffer: { stdout: false, stderr: true },
      reject: false,
      stdin: 'ignore',
    },
  );
  let transform: TableTransform | undefined;
  let copy: ReturnType<typeof copyFrom> | undefined;
  let rows = 0;
  let pending = '';
  let inData = false;
  let copyError: Error | undefined;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      const lines = (pending + chunk.toString('utf8')).split('\n');
      pending = lines.pop() ?? '';
      let out = '';
      for (const line of lines) {
        if (inData) {
          if (line === '\\.') {
            inData = false;
            continue;
          }
          out += `${(transform as TableTransform).line(line)}\n`;
          rows++;
        } else if (line.startsWith('COPY ')) {
          const header = parseCopyHeader(line);
          if (!header) continue;
          transform = input.transformFor(header.columns);
          copy = client.query(
            copyFrom(
              `COPY ${qualifiedName(input.schema, input.table)} (${header.columns.map(ident).join(', ')}) FROM STDIN`,
            ),
          );
          copy.on('error', (error: Error) => {
            copyError ??= error;
          });
          inData = true;
        }
      }
      if (copyError) throw copyFailure(input, copyError);
      if (out && copy && !copy.write(out)) await once(copy, 'drain');
    }
    const result = await child;
    if (input.signal.aborted) throw new AbortedError(`streaming ${input.schema}.${input.table} was stopped`);
    if (result.failed || inData) {
      throw new BadBackupError(
        `${input.archive}: pg_restore could not stream ${input.schema}.${input.table}${inData ? ' (the data ended mid-table)' : ''}:\n${tail(String(result.stderr ?? ''), 10)}`,
        { hint: 'the archive is corrupt or truncated; the live staging database was not touched' },
      );
    }
    if (copy) {
      const finished = once(copy, 'finish');
      copy.end();
      await finished.catch((error: Error) => {
        throw copyFailure(input, copyError ?? error);
      });
    }
    return { rows, durationMs: performance.now() - started, samples: transform?.samples ?? new Map() };
  } catch (error) {
    child.kill();
    copy?.destroy();
    throw error instanceof RefreshError ? error : copyFailure(input, error as Error);
  } finally {
    await client.end().catch(() => undefined);
  }
}
