// A masking helper thread: holds one table's transform and masks blocks of its COPY lines for
// the thread streaming the table (block-masker.ts), so one big table is masked on several cores.
// Blocks arrive and leave as transferred buffers: no copy between the threads.
import { parentPort } from 'node:worker_threads';
import type { TableLeakSample } from '../../anonymize/leak-sampler.js';
import { KeyRecorder, takeKeys } from '../../anonymize/output-ledger.js';
import { KeyedPrf } from '../../anonymize/prf/keyed-prf.js';
import type { ColumnRule } from '../../anonymize/strategies/registry.js';
import { compileTableTransform, type TableTransform } from '../../anonymize/table-transform.js';

/** What a helper compiles its transform from (structured-clone safe). */
export interface MaskHelperSetup {
  table: string;
  columns: string[];
  rules: Record<string, ColumnRule>;
  types: [string, string][];
  secret: string;
  domain: string;
  /** Ruled columns with a unique key of their own: each block's keys of their outputs go back with it. */
  unique?: string[];
}

export type MaskHelperRequest =
  | { setup: MaskHelperSetup }
  | { block: { id: number; bytes: Uint8Array } }
  | { finish: true };

export type MaskHelperReply =
  | { ready: true }
  | { id: number; out: Uint8Array; rows: number; keys?: Record<string, Uint32Array> }
  | { id: number; error: string }
  | { samples: TableLeakSample };

if (parentPort) {
  const port = parentPort;
  let transform: TableTransform | undefined;
  const recorders = new Map<string, KeyRecorder>();
  port.on('message', (message: MaskHelperRequest) => {
    if ('setup' in message) {
      // Ready only once the transform compiled: no block is sent to a helper that cannot mask it.
      const { table, columns, rules, types, secret, domain, unique = [] } = message.setup;
      transform = compileTableTransform(
        table,
        columns,
        rules,
        new Map(types),
        KeyedPrf.of(secret),
        domain,
        new Set(unique),
        {
          ledger: (column) => {
            const recorder = new KeyRecorder();
            recorders.set(column, recorder);
            return recorder;
          },
        },
      );
      port.postMessage({ ready: true } satisfies MaskHelperReply);
    } else if ('block' in message) {
      const { id, bytes } = message.block;
      try {
        if (!transform) throw new Error('a masking helper got rows before its rules');
        const masked = transform.bytes(
          Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          0,
          bytes.length,
        );
        const keys = takeKeys(recorders);
        port.postMessage({ id, out: masked.out, rows: masked.rows, keys } satisfies MaskHelperReply, [
          masked.out.buffer as ArrayBuffer,
          ...Object.values(keys ?? {}).map((taken) => taken.buffer as ArrayBuffer),
        ]);
      } catch (error) {
        port.postMessage({ id, error: (error as Error).message } satisfies MaskHelperReply);
      }
    } else {
      port.postMessage({
        samples: transform?.leakSample() ?? { keyColumns: [], checkedColumns: [], rows: [] },
      } satisfies MaskHelperReply);
    }
  });
}
