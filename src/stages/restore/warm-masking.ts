// The masking code warmed before the first masked row is written. V8 runs a thread's new code
// slowly until it has watched it run and optimized it: a 50k-row users table took 0.28 s on one
// core cold, most of it in its first 10k rows, against ~0.1 s for the server to ingest it. So
// while the PII gate and the rule checks read the archive and ask the database (a thread mostly
// waiting), each masked table's own first rows are masked here and thrown away, by transforms of
// their own (their caches and unique outputs are not the run's), within a budget of time.
//
// Two transforms a table, taking blocks in turn: while a function has only one closure, V8
// specializes its optimized code to that closure's variables and no later closure can reuse it;
// with two, the optimized code is the function's, and the run's own transforms start with it.
import { CopyLines } from '../../anonymize/copy-lines.js';
import { KeyedPrf } from '../../anonymize/prf/keyed-prf.js';
import { compileTableTransform, type TableTransform } from '../../anonymize/table-transform.js';
import { tableKey } from '../../sql/table-key.js';
import { openTableData } from './table-data-source.js';
import type { TableStreamData } from './table-stream-worker.js';

/** What the warm-up reads of a table: what its stream is given, but where it loads. */
export type WarmTable = Pick<
  TableStreamData,
  | 'archive'
  | 'pgRestore'
  | 'schema'
  | 'table'
  | 'hasData'
  | 'rules'
  | 'types'
  | 'secret'
  | 'domain'
  | 'unique'
  | 'direct'
>;

/** How much warming: at most `ms` in all, `bytes` of COPY text a table. */
export interface WarmBudget {
  ms: number;
  bytes: number;
}

/** A run's warm-up: measured enough for a user to see what it cost. */
export const WARM_BUDGET: WarmBudget = { ms: 400, bytes: 4 * 1024 * 1024 };

/** What the warm-up did. */
export interface WarmUp {
  tables: number;
  rows: number;
  durationMs: number;
}

/**
 * Masks the first rows of each table read from the archive itself (`direct`; a table that would
 * need a pg_restore is not worth one here) and throws them away. Never throws: a value a rule
 * cannot mask fails the real stream, with the error the run reports; here it ends that table's
 * warm-up.
 */
export async function warmMasking(
  tables: readonly WarmTable[],
  budget: WarmBudget,
  signal: AbortSignal,
): Promise<WarmUp> {
  const started = performance.now();
  const done: WarmUp = { tables: 0, rows: 0, durationMs: 0 };
  for (const data of tables) {
    if (!data.direct || !data.hasData) continue;
    if (signal.aborted || performance.now() - started >= budget.ms) break;
    done.tables++;
    done.rows += await warmTable(
      data,
      budget.bytes,
      () => signal.aborted || performance.now() - started >= budget.ms,
    );
  }
  done.durationMs = Math.round(performance.now() - started);
  return done;
}

/** Masks up to `bytes` of one table's COPY text into nothing; the rows masked. */
async function warmTable(data: WarmTable, bytes: number, over: () => boolean): Promise<number> {
  const name = tableKey(data.schema, data.table);
  const compile = (columns: string[]): TableTransform =>
    compileTableTransform(
      name,
      columns,
      data.rules,
      new Map(data.types),
      new KeyedPrf(data.secret),
      data.domain,
      new Set(data.unique),
    );
  let second: TableTransform | undefined;
  const lines = new CopyLines((columns) => {
    second = compile(columns);
    return compile(columns);
  });
  const stop = new AbortController();
  const source = openTableData(data, stop.signal);
  let read = 0;
  let rows = 0;
  let turn = 0;
  try {
    for await (const chunk of source.chunks) {
      const { spans } = lines.cut(chunk);
      for (const span of spans) {
        const transform = turn++ % 2 === 0 ? lines.transform : second;
        rows += transform?.bytes(span, 0, span.length).rows ?? 0;
      }
      read += chunk.length;
      if (read >= bytes || over()) break;
    }
  } catch {
    // The real stream meets the same value and reports it.
  } finally {
    stop.abort();
  }
  return rows;
}
