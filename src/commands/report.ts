// report: re-render or re-send a stored run record.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { smtpMailer } from '../infra/mail/mailer.js';
import type { RunRecord } from '../record/run-record.js';
import { renderHtmlPage } from '../stages/report/render-html-email.js';
import { renderMarkdown } from '../stages/report/render-markdown.js';
import { renderText } from '../stages/report/render-text.js';
import { sendReport } from '../stages/report/send-report.js';
import { findRun } from './history.js';

export type ReportFormat = 'text' | 'markdown' | 'html' | 'json';

/** A stored run: from the control database when there is one, else `<report.dir>/<runId>.json` (or latest.json). */
export async function loadRecord(config: Config, runId?: string): Promise<RunRecord> {
  if (runId !== undefined && !/^[\w.-]+$/.test(runId)) throw new UsageError(`not a run id: ${runId}`);
  const stored = runId ? await findRun(config, runId) : undefined;
  if (stored) return stored;
  const file = join(config.report.dir, `${runId ?? 'latest'}.json`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RunRecord;
  } catch (error) {
    throw new UsageError(`no stored run record at ${file}: ${(error as Error).message}`, {
      hint: 'list runs with `ls` on report.dir, or run a refresh first',
    });
  }
}

/** Renders a record in one of the report formats. */
export function renderRecord(record: RunRecord, format: ReportFormat): string {
  switch (format) {
    case 'markdown':
      return renderMarkdown(record);
    case 'html':
      return renderHtmlPage(record);
    case 'json':
      return `${JSON.stringify(record, null, 2)}\n`;
    default:
      return renderText(record);
  }
}

/** Sends a stored record's e-mail again. */
export async function resendRecord(config: Config, record: RunRecord): Promise<string> {
  const email = config.report.email;
  if (!email) throw new UsageError('report.email is not configured');
  const result = await sendReport(
    smtpMailer({ url: email.smtp, user: email.user, password: email.password }),
    email,
    record,
  );
  if (!result.sent) throw new UsageError(`e-mail not sent: ${result.error}`);
  return `sent to ${result.to.join(', ')}`;
}
