// How far V8 lets the JavaScript heap grow between two full collections, for a process that
// streams a restore. V8 sets the next limit from how fast the program allocates on its own heap,
// and a masked restore allocates little there: its bytes flow through Buffers outside the heap
// (read chunks, inflated chunks, masked blocks waiting on a COPY socket), ~100 MB/s of them. The
// growth of that outside memory since the last full collection counts against the same limit,
// which left ~8 MB of room (V8 starts marking once less than a young generation's 16 MB is left,
// and the limit was ~24 MB above the live heap). So it ran a full mark-compact of the whole heap
// (~42 MB live in a run: the parser, the driver, the AWS SDK, faker's locale) every ~0.2 s.
//
// Measured on the bench's default dataset, tool pinned to one core: 45 mark-compacts in a 12 s
// restore, and the tool used ~9.0–9.8 s of CPU, ~2 s of it on V8's marking threads. With the
// growing factor at 2 (the limit twice the live heap), 5–8 mark-compacts and 6.4–7.5 s of CPU; the
// restore step went from 12.0–13.2 s to 11.1–12.0 s; peak RSS within 10 MB of before.
//
// Then raised from 100 to 400 (the limit five times the live heap): the bench's per-table harness
// (one table's client side alone on one core, ~15 MB live) still ran a mark-compact every
// ~0.1 s, 10–11 in the 500k-row users table. At 400: 3; users 0.93 → 0.85 s, payments (1M rows)
// 1.02 → 0.84 s, orders (2M) 2.42 → 1.83 s; the harness's peak RSS 5–12 MB higher (135–175 →
// 148–187 MB). The heap itself stays small: what waits for a full collection is the dead
// Buffers' memory, and V8 still collects when that outside memory grows by its own limit.
//
// The flag is V8's own (`--heap-growing-percent`, in Node 20's and Node 24's V8). V8 reads it at
// every full collection, so setting it at run time takes effect from the next one. A V8 without
// it prints "unrecognized flag" on stderr and goes on as before; test/unit/heap-growth.test.ts
// fails on such a Node, so the loss is seen.
import { setFlagsFromString } from 'node:v8';

/** The heap may grow to (1 + this/100) × its live size before the next full collection. */
export const HEAP_GROWING_PERCENT = 400;

let tuned = false;

/** Sets the heap's growing factor for this process (all its threads), once. */
export function tuneHeapGrowth(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
