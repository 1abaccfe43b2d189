// Sends the report e-mail: the verdict in the subject, HTML with a text alternative, the JSON
// record attached. Retried with backoff; a failure is reported back, never thrown.
import type { Config } from '../../config/schema.js';
import { describeSmtp, type Mailer } from '../../infra/mail/mailer.js';
import type { RunRecord } from '../../record/run-record.js';
import { headline } from './headline.js';
import { renderHtmlEmail } from './render-html-email.js';
import { renderText } from './render-text.js';

export interface SendResult {
  sent: boolean;
  to: string[];
  attempts: number;
  messageId?: string;
  error?: string;
}

/** Recipients: `to`, plus `onFailure` when the run did not succeed. */
export function recipients(email: NonNullable<Config['report']['email']>, record: RunRecord): string[] {
  const extra = record.outcome === 'succeeded' ? [] : (email.onFailure ?? []);
  return [...new Set([...email.to, ...extra])];
}

/** Sends the report; tries `attempts` times with exponential backoff from `backoffMs`. */
export async function sendReport(
  mailer: Mailer,
  email: NonNullable<Config['report']['email']>,
  record: RunRecord,
  options: { attempts?: number; backoffMs?: number } = {},
): Promise<SendResult> {
  const to = recipients(email, record);
  const message = {
    from: email.from,
    to,
    subject: headline(record),
    text: renderText(record),
    html: renderHtmlEmail(record),
    attachments: [
      {
        filename: `${record.runId}.json`,
        content: `${JSON.stringify(record, null, 2)}\n`,
        contentType: 'application/json',
      },
    ],
  };
  const attempts = options.attempts ?? 3;
  let lastError = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const { messageId } = await mailer.send(message);
      return { sent: true, to, attempts: attempt, messageId };
    } catch (error) {
      lastError = `${describeSmtp(email.smtp)}: ${(error as Error).message}`;
      if (attempt < attempts)
        await new Promise((resolve) => setTimeout(resolve, (options.backoffMs ?? 2000) * 2 ** (attempt - 1)));
    }
  }
  return { sent: false, to, attempts, error: lastError };
}
