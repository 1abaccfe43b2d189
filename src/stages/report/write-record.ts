// Writes the run record as `<dir>/<runId>.json` and `<dir>/latest.json`, each atomically
// (temp file + rename), so a reader never sees half a record.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from '../../record/run-record.js';
import { renderHtmlPage } from './render-html-email.js';

/**
 * Writes both files (only the run's own with `latest: false`, for a run that never started, such
 * as one that lost the single-flight race); returns the path of the run's own file.
 */
export async function writeRunRecord(
  dir: string,
  record: RunRecord,
  options: { latest?: boolean } = {},
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(record, null, 2)}\n`;
  const own = join(dir, `${record.runId}.json`);
  await writeAtomic(own, text);
  if (options.latest !== false) await writeAtomic(join(dir, 'latest.json'), text);
  return own;
}

/** Writes `<dir>/<runId>.html`, the standalone HTML report; returns its path. */
export async function writeHtmlReport(dir: string, record: RunRecord): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${record.runId}.html`);
  await writeAtomic(path, renderHtmlPage(record));
  return path;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}
