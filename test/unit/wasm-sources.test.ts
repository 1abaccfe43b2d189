import { readFile } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { describe, expect, it } from 'vitest';
import { compileWat, watModuleSource } from '../../scripts/lib/wat.js';

describe('WebAssembly kernels', () => {
  it('are built from their sources: each committed binary is what its .wat compiles to', async () => {
    const sources = await glob('src/**/*.wat');
    expect(sources.length).toBeGreaterThanOrEqual(1);
    for (const path of sources) {
      const generated = watModuleSource(path, await compileWat(path, await readFile(path, 'utf8')));
      expect(await readFile(`${path}.ts`, 'utf8'), `${path}.ts: run npm run build:wasm`).toBe(generated);
    }
  });
});
