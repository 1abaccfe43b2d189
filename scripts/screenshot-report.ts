// Renders a run record's HTML page and takes a PNG of it (for the README):
//   tsx scripts/screenshot-report.ts [record.json] [out.png]
// Without a record it uses the demo's record with made-up earlier runs, so the chart has a trend.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { RunRecord } from '../src/record/run-record.js';
import { renderHtmlPage } from '../src/stages/report/render-html-email.js';
import { computeTrends } from '../src/stages/report/trends.js';
import { renderPage } from './lib/browser.js';

const [recordFile, output = 'docs/report.png'] = process.argv.slice(2);
const record = JSON.parse(
  await readFile(recordFile ?? 'test/fixtures/run-record.demo.json', 'utf8'),
) as RunRecord;
if (!recordFile) record.trends = computeTrends(record, earlierRuns(record));
const dir = await mkdtemp(join(tmpdir(), 'report-page-'));
const page = join(dir, 'report.html');
await writeFile(page, renderHtmlPage(record));
const result = await renderPage(page, resolve(output), { fullPage: false });
if (result.errors.length > 0) throw new Error(`the page has errors:\n${result.errors.join('\n')}`);
process.stdout.write(`${resolve(output)}\n`);

/** Four weekly runs before this one, each a little smaller and faster. */
function earlierRuns(current: RunRecord): RunRecord[] {
  return [1, 2, 3, 4].map((weeks) => {
    const scale = 1 - weeks * 0.06;
    const started = new Date(Date.parse(current.startedAt) - weeks * 7 * 86_400_000).toISOString();
    return {
      ...current,
      runId: `${started.slice(0, 10).replace(/-/g, '')}T030000Z-demo`,
      startedAt: started,
      durationMs: Math.round(current.durationMs * scale),
      steps: current.steps.map((step) => ({ ...step, durationMs: Math.round(step.durationMs * scale) })),
      restore: current.restore && {
        ...current.restore,
        tables: current.restore.tables.map((table) => ({
          ...table,
          bytes: Math.round(table.bytes * scale),
          rows: Math.round(table.rows * scale),
        })),
      },
    };
  });
}
