// The SQL parser's WebAssembly (libpg-query) runs on V8's baseline compiler only. V8 optimizes hot
// WebAssembly functions on background threads; the parser's largest function (~100 KB of code)
// took 0.9 s and 0.6 GB of compiler memory to optimize on Node 24 (measured with
// --trace-wasm-compilation-times: a run's peak RSS 690 MB on Node 24 against 231 MB on Node 20),
// and on a tool with one core that compile ran beside the masking (a 50k-row table masked in
// 0.6 s instead of 0.3 s). On baseline code the parser parses 10,000 statements in ~0.2–0.3 s, and
// the first time faster than while the optimizing compile competes; it parses a backup's
// post-data and the migrations once a run.
//
// V8 decides a tier-up when a function's budget runs out, from process-wide flags: while the parser
// runs (synchronously, on this thread) no function may tier up; the masking's SipHash and HMAC
// kernels (this thread's and the worker threads') still do — a budget that runs out in that window
// is spent again, and the kernels are ~30 % of a masked row on baseline code.
import { setFlagsFromString } from 'node:v8';

/** A function index no module has: V8 then tiers up nothing. */
const NO_FUNCTION = 2_000_000_000;

/** Runs `work` (synchronous WebAssembly calls) with V8's WebAssembly tier-up off, then back on. */
export function onBaselineCode<T>(work: () => T): T {
  setFlagsFromString(`--wasm-tier-up-filter=${NO_FUNCTION}`);
  try {
    return work();
  } finally {
    setFlagsFromString('--wasm-tier-up-filter=-1');
  }
}
