// The one-way shape, held by a test: cli → commands → pipeline → stages → the shared vocabulary
// (sources, anonymize, observe, dump, sql, history) → infra → the ground (record, config, log,
// errors, format). Each source file may import its own module and the floors below it, never a
// floor above, and no stage imports another stage.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Floors, lowest first; a module is the first path segment (or `stages/<step>`). */
const FLOORS: readonly (readonly string[])[] = [
  ['errors.ts', 'version.ts', 'format', 'secrets'],
  // The masking strategies stand below the config: its rule union is derived from their registry.
  ['anonymize/prf'],
  ['anonymize/strategies'],
  ['record', 'log', 'config'],
  ['infra'],
  ['sql', 'history'],
  ['dump'],
  ['anonymize', 'observe', 'sources', 'neutralize'],
  ['stages/*'],
  ['pipeline'],
  ['commands'],
  ['cli'],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `stages/restore` for src/stages/restore/x.ts, `anonymize/prf` for src/anonymize/prf/siphash.ts. */
function moduleOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts[0] === 'stages') return `stages/${parts[1]}`;
  if (parts[0] === 'anonymize' && (parts[1] === 'prf' || parts[1] === 'strategies'))
    return `anonymize/${parts[1]}`;
  return parts[0] === 'cli.ts' ? 'cli' : (parts[0] as string);
}

function floorOf(module: string): number {
  const floor = FLOORS.findIndex((names) =>
    names.some((name) => name === module || (name === 'stages/*' && module.startsWith('stages/'))),
  );
  if (floor < 0) throw new Error(`src/${module} stands on no floor: add it to FLOORS`);
  return floor;
}

/** Relative imports (static, re-exports and dynamic) of one file, resolved to .ts paths under src. */
function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)'(\.[^']+)'/gm)].map(
    (match) => match[1] as string,
  );
  return specifiers.map((specifier) => resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
}

/** Every import that runs up a floor, or across from one stage into another. */
function violations(): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = moduleOf(file);
    for (const target of importsOf(file, readFileSync(file, 'utf8'))) {
      if (!target.startsWith(SRC)) continue;
      const to = moduleOf(target);
      if (to === from) continue;
      const what = `src/${relative(SRC, file)} imports src/${relative(SRC, target)}`;
      if (from.startsWith('stages/') && to.startsWith('stages/'))
        found.push(`${what} (a stage imports another stage)`);
      else if (floorOf(to) >= floorOf(from)) found.push(`${what} (${to} does not stand below ${from})`);
    }
  }
  return found;
}

describe('import boundaries', () => {
  it('no import runs up the floors or from one stage into another', () => {
    expect(violations()).toEqual([]);
  });

  it('catches an upward import, a stage-to-stage import and a dynamic import', () => {
    const file = join(SRC, 'stages/restore/x.ts');
    const text = [
      "import { a } from '../../pipeline/run-refresh.js';",
      "import type { B } from '../migrate/migrate.js';",
      "const c = await import('../../commands/plan.js');",
    ].join('\n');
    const targets = importsOf(file, text).map((target) => moduleOf(target));
    expect(targets).toEqual(['pipeline', 'stages/migrate', 'commands']);
    expect(targets.map((module) => floorOf(module) >= floorOf('stages/restore'))).toEqual([true, true, true]);
  });
});
