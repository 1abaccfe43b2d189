// The heap's growing factor is set through a V8 flag (src/infra/process/heap-growth.ts). A V8
// that dropped the flag would only print "unrecognized flag" and run with full collections every
// ~0.2 s of a restore again: this test is where that loss shows.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

describe('tuneHeapGrowth', () => {
  it("uses a flag this Node's V8 has", async () => {
    const options = await execa(process.execPath, ['--v8-options']);
    expect(options.stdout).toMatch(/^\s*--heap-growing-percent\b/m);
  });

  it('sets it without a word on stderr', async () => {
    const child = await execa(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { tuneHeapGrowth } from './src/infra/process/heap-growth.ts';
         tuneHeapGrowth();
         tuneHeapGrowth();`,
      ],
      { env: { NODE_OPTIONS: '' } },
    );
    expect(child.stderr).toBe('');
  });
});
