// Compiles every WebAssembly text module under src/ (`*.wat`) into a TypeScript module beside it
// (`*.wat.ts`, the binary in base64), so the build, the worker threads and the image load it
// without a file path. The generated files are committed; `npm run build` regenerates them, and
// a unit test checks the committed binary is exactly what its source compiles to.
// npm run build:wasm [-- --check]
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { glob } from 'tinyglobby';
import { compileWat, watModuleSource } from './lib/wat.js';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
let stale = 0;
for (const path of await glob('src/**/*.wat')) {
  const source = watModuleSource(path, await compileWat(path, await readFile(path, 'utf8')));
  const target = `${path}.ts`;
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current === source) continue;
  if (values.check) {
    process.stderr.write(`${target} is not what ${path} compiles to: run npm run build:wasm\n`);
    stale++;
  } else {
    await writeFile(target, source);
    process.stderr.write(`wrote ${target}\n`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
