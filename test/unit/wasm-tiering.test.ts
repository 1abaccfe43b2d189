// The parser's WebAssembly stays on V8's baseline compiler (src/infra/process/wasm-tiering.ts):
// its largest function took ~0.6 GB and ~0.9 s to optimize on Node 24. The masking's kernels,
// instantiated before and after it, must still be optimized. V8's own trace of its WebAssembly
// compiles is the judge.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

/** Bodies (in bytes) of the functions V8 compiled with its optimizing compiler, from its trace. */
function optimized(trace: string): number[] {
  return [...trace.matchAll(/using TurboFan.*bodysize (\d+)/g)].map((match) => Number(match[1]));
}

describe('WebAssembly tier-up', () => {
  it("leaves the parser's functions on baseline code and still optimizes the PRF's", async () => {
    const child = await execa(
      process.execPath,
      [
        '--trace-wasm-compilation-times',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { loadParser, parseStatements, WARM_UP_SQL } from './src/sql/parse-sql.ts';
         import { KeyedPrf } from './src/anonymize/prf/keyed-prf.ts';
         await loadParser();
         for (let round = 0; round < 20; round++) parseStatements(WARM_UP_SQL);
         const prf = new KeyedPrf('k');
         for (let i = 0; i < 300000; i++) prf.uint32('value ' + i);
         await new Promise((resolve) => setTimeout(resolve, 300));`,
      ],
      { env: { NODE_OPTIONS: '' }, all: true },
    );
    const bodies = optimized(child.all);
    // The PRF's kernels are a few hundred bytes a function; the parser's run to 100 KB.
    expect(bodies.filter((size) => size < 4000).length).toBeGreaterThan(0);
    expect(bodies.filter((size) => size >= 4000)).toEqual([]);
  });
});
