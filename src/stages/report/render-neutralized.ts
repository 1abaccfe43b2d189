// The "Neutralized" section of every report: what in the backup could reach outside staging and
// what the run did about it (kept objects included: they are never silent).
import type { NeutralizedRecord, RunRecord } from '../../record/run-record.js';
import { escapeHtml as e } from './html.js';

const line = (object: NeutralizedRecord) =>
  `${object.kind} ${object.name}: ${object.action} — ${object.detail}`;

/** Text lines (empty when nothing was found). */
export function neutralizedText(record: RunRecord): string[] {
  const objects = record.neutralized ?? [];
  if (objects.length === 0) return [];
  return [
    '',
    'Neutralized (links out of staging found in the backup)',
    ...objects.map((o) => `  - ${line(o)}`),
  ];
}

/** Markdown lines (empty when nothing was found). */
export function neutralizedMarkdown(record: RunRecord): string[] {
  const objects = record.neutralized ?? [];
  if (objects.length === 0) return [];
  return [
    '**Neutralized**',
    '',
    ...objects.map((o) => `- \`${o.kind} ${o.name}\`: ${o.action} — ${o.detail}`),
    '',
  ];
}

/** An HTML table row for the e-mail and the page (empty when nothing was found). */
export function neutralizedHtml(record: RunRecord): string {
  const objects = record.neutralized ?? [];
  if (objects.length === 0) return '';
  const items = objects.map(
    (o) => `<li><b>${e(o.kind)} ${e(o.name)}</b>: ${e(o.action)} — ${e(o.detail)}</li>`,
  );
  return `<tr><td style="padding-top:12px;"><h2 style="font-size:15px;margin:0 0 6px;">Neutralized</h2><ul style="margin:0;padding-left:18px;font-size:13px;">${items.join('')}</ul></td></tr>`;
}
