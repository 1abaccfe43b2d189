// A worker thread that masks one table's COPY stream, so the masking of several tables — and the
// I/O of the main thread — run on more than one core. It gets the raw `pg_restore -f -` output
// in chunks and answers each, in order, with the masked COPY data of the complete lines in it.
import { StringDecoder } from 'node:string_decoder';
import { parentPort, workerData } from 'node:worker_threads';
import { parseCopyHeader } from './copy-text.js';
import { KeyedPrf } from './keyed-prf.js';
import type { ColumnRule } from './strategies.js';
import { compileTableTransform, type TableTransform } from './table-transform.js';

/** What the worker is started with (structured-clone safe). */
export interface TransformWorkerData {
  table: string;
  rules: Record<string, ColumnRule>;
  types: [string, string][];
  secret: string;
  domain: string;
}

/** The worker's answer to a chunk. */
export interface TransformReply {
  /** The table's columns, when the COPY header was in this chunk. */
  header?: string[];
  /** Masked COPY data lines, each ending in a newline. */
  out: string;
  rows: number;
  error?: string;
  /** Set on the answer to `end`. */
  final?: { inData: boolean; samples: [string, string[]][] };
}

const data = workerData as TransformWorkerData;
const prf = new KeyedPrf(data.secret);
const decoder = new StringDecoder('utf8');
let transform: TableTransform | undefined;
let pending = '';
let inData = false;

function handle(chunk: Uint8Array): TransformReply {
  const lines = (
    pending + decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
  ).split('\n');
  pending = lines.pop() ?? '';
  let out = '';
  let rows = 0;
  let header: string[] | undefined;
  for (const line of lines) {
    if (inData) {
      if (line === '\\.') {
        inData = false;
        continue;
      }
      out += `${(transform as TableTransform).line(line)}\n`;
      rows++;
    } else if (line.startsWith('COPY ')) {
      const parsed = parseCopyHeader(line);
      if (!parsed) continue;
      header = parsed.columns;
      transform = compileTableTransform(
        data.table,
        parsed.columns,
        data.rules,
        new Map(data.types),
        prf,
        data.domain,
      );
      inData = true;
    }
  }
  return { out, rows, ...(header && { header }) };
}

parentPort?.on('message', (message: { chunk?: Uint8Array; end?: true }) => {
  let reply: TransformReply;
  try {
    reply = message.end
      ? { out: '', rows: 0, final: { inData, samples: [...(transform?.samples ?? new Map())] } }
      : handle(message.chunk as Uint8Array);
  } catch (error) {
    reply = { out: '', rows: 0, error: (error as Error).message };
  }
  parentPort?.postMessage(reply);
});
