// The standalone HTML report page in headless Chromium: it renders without console errors or
// failed requests (no external assets), with the trend chart.
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPage } from '../../scripts/lib/browser.js';
import type { RunRecord } from '../../src/record/run-record.js';
import { renderHtmlPage } from '../../src/stages/report/render-html-email.js';
import { computeTrends } from '../../src/stages/report/trends.js';

describe('HTML report page', () => {
  it('renders in headless Chromium without errors, with the chart, and screenshots', async () => {
    const record = JSON.parse(
      await readFile(new URL('../fixtures/run-record.demo.json', import.meta.url), 'utf8'),
    ) as RunRecord;
    const previous: RunRecord = {
      ...record,
      runId: 'last-week',
      startedAt: new Date(Date.parse(record.startedAt) - 7 * 86_400_000).toISOString(),
      steps: record.steps.map((step) => ({ ...step, durationMs: Math.round(step.durationMs * 0.8) })),
    };
    record.trends = computeTrends(record, [previous]);
    expect(record.trends).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'report-page-'));
    const page = join(dir, 'page.html');
    await writeFile(page, renderHtmlPage(record));
    const result = await renderPage(page, join(dir, 'page.png'));
    expect(result.errors).toEqual([]);
    expect(result.svgs).toBeGreaterThanOrEqual(1);
    expect(result.title).toMatch(/^staging refresh \d{4}-\d{2}-\d{2}: 4 pending migrations/);
    expect((await stat(join(dir, 'page.png'))).size).toBeGreaterThan(10_000);

    // The check can fail: an asset that cannot be loaded (here a missing local file) is reported.
    await writeFile(
      page,
      renderHtmlPage(record).replace('</body>', `<img src="file://${dir}/missing.png"></body>`),
    );
    expect((await renderPage(page)).errors.length).toBeGreaterThan(0);
  });
});
