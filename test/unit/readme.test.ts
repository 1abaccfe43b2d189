// The README is the newcomer's first hour: it opens with the two commands CI runs verbatim
// (.ci/run reads them the same way), and nothing it or docs/ points at is outside the repository.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Non-empty lines of the first ```bash block, as .ci/run's awk reads them. */
function firstBashBlock(markdown: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf('```bash');
  const end = lines.findIndex((line, index) => index > start && line.startsWith('```'));
  return lines.slice(start + 1, end).filter((line) => line.trim() !== '');
}

describe('README', () => {
  it('starts with the demo and the test command, each from a clean clone', async () => {
    const commands = firstBashBlock(await readFile(join(ROOT, 'README.md'), 'utf8'));
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatch(/^npm ci && npm run demo(\s+#.*)?$/);
    expect(commands[1]).toMatch(/^npm ci && npm test(\s+#.*)?$/);
  });

  it('README.md and docs/*.md point only inside the repository', async () => {
    const files = [
      'README.md',
      ...(await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
    ];
    for (const file of files) {
      const text = await readFile(join(ROOT, file), 'utf8');
      const targets = [
        ...[...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string),
        ...[...text.matchAll(/`(\.\.\/[^`]+)`/g)].map((m) => m[1] as string),
      ].filter((target) => !/^(https?:|mailto:|#)/.test(target));
      for (const target of targets) {
        const inside = relative(ROOT, resolve(ROOT, file, '..', target.split('#')[0] as string));
        expect(inside.startsWith('..'), `${file} points outside the repository: ${target}`).toBe(false);
      }
    }
  });
});
