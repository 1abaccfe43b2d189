// `lint --tool` accepts every tool `run` accepts, reads the files as that tool would and judges
// CONCURRENTLY by how that tool sends the file.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintDirectory } from '../../src/commands/lint.js';
import { MIGRATION_TOOL_NAMES, type MigrationToolName } from '../../src/stages/migrate/tools/registry.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/migrations/', import.meta.url));
const LINT = { failOn: 'error' as const, disable: [] };

async function lintFiles(tool: MigrationToolName, files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), `lint-${tool}-`));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const results = await lintDirectory(dir, { tool, lint: LINT });
  return Object.fromEntries(results.map((r) => [r.name, r.findings.map((f) => f.rule)]));
}

const rulesOf = (findings: Record<string, string[]>, name: string) => findings[name] ?? ['(not found)'];

describe('lint --tool', () => {
  it.each(MIGRATION_TOOL_NAMES)('%s: reads its migrations and finds the plain CREATE INDEX', async (tool) => {
    const fixture = tool === 'command' ? 'sql' : tool;
    const results = await lintDirectory(join(FIXTURES, fixture), { tool, lint: LINT });
    expect(results.length).toBeGreaterThanOrEqual(4);
    const rules = results.flatMap((result) => result.findings.map((finding) => finding.rule));
    expect(rules).toContain('require-concurrent-index');
  });

  it('judges CONCURRENTLY by how each tool sends the file', async () => {
    const pair = 'CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n';
    const alone = 'CREATE INDEX CONCURRENTLY t_id ON t (id);\n';
    // One message of two statements is one implicit transaction; alone it is not.
    const golang = await lintFiles('golang-migrate', { '1_pair.up.sql': pair, '2_alone.up.sql': alone });
    expect(rulesOf(golang, '1_pair')).toContain('concurrently-in-transaction');
    expect(rulesOf(golang, '2_alone')).not.toContain('concurrently-in-transaction');
    // Flyway runs a CONCURRENTLY migration without a transaction, but not REINDEX INDEX CONCURRENTLY.
    const flyway = await lintFiles('flyway', {
      'V1__Alone.sql': alone,
      'V2__Reindex.sql': 'REINDEX INDEX CONCURRENTLY t_id;\n',
    });
    expect(rulesOf(flyway, 'V1__Alone')).not.toContain('concurrently-in-transaction');
    expect(rulesOf(flyway, 'V2__Reindex')).toContain('concurrently-in-transaction');
    // node-pg-migrate: in its transaction unless the migration calls pgm.noTransaction().
    const npm = await lintFiles('node-pg-migrate', {
      '1_in.js': `export const up = (pgm) => { pgm.createIndex('t', 'id', { concurrently: true }); };\n`,
      '2_out.js': `export const up = (pgm) => { pgm.noTransaction(); pgm.createIndex('t', 'id', { concurrently: true }); };\n`,
    });
    expect(rulesOf(npm, '1_in')).toContain('concurrently-in-transaction');
    expect(rulesOf(npm, '2_out')).not.toContain('concurrently-in-transaction');
  });
});
