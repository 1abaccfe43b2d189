// The HTML e-mail: table layout with inline styles (what mail clients render), no scripts, no
// external images. Dangerous migrations first, each with the team's four-point checklist.
import { formatDuration } from '../../format/duration.js';
import { formatBytes } from '../../format/format-bytes.js';
import type { MigrationRecord, RunRecord } from '../../record/run-record.js';
import { byDanger, headline } from './headline.js';
import { escapeHtml as e } from './html.js';
import { productionLines, serverLine } from './production-terms.js';
import { neutralizedHtml } from './render-neutralized.js';
import { isTableLockThatMatters } from './render-text.js';
import { trendsChart, trendsHtml } from './render-trends.js';

const COLOR = { dangerous: '#b42318', review: '#b54708', safe: '#067647' } as const;
const CELL = 'padding:4px 8px;border-bottom:1px solid #eaecf0;vertical-align:top;font-size:13px;';
const HEAD = 'padding:4px 8px;border-bottom:2px solid #d0d5dd;text-align:left;font-size:12px;color:#475467;';
const PRE =
  'margin:4px 0;padding:6px;background:#f9fafb;border:1px solid #eaecf0;font-size:11px;white-space:pre-wrap;';

/** The standalone HTML page: the e-mail's content plus the trend chart (inline SVG). */
export function renderHtmlPage(record: RunRecord): string {
  const chart = record.trends
    ? `<tr><td style="padding-top:12px;"><h2 style="font-size:15px;margin:0 0 6px;">Durations, last ${record.trends.series.length} runs</h2>${trendsChart(record.trends)}</td></tr>`
    : '';
  return renderHtmlEmail(record).replace('<!--chart-->', chart);
}

/** The e-mail body as HTML. */
export function renderHtmlEmail(record: RunRecord): string {
  const banner =
    record.outcome === 'succeeded'
      ? record.migrations.some((m) => m.verdict === 'dangerous')
        ? COLOR.dangerous
        : COLOR.safe
      : COLOR.dangerous;
  const parts: string[] = [
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="font-family:Arial,Helvetica,sans-serif;color:#101828;max-width:720px;">`,
    `<tr><td style="padding:12px;background:${banner};color:#ffffff;font-size:16px;font-weight:bold;">${e(headline(record))}</td></tr>`,
    `<tr><td style="padding:12px 0;font-size:13px;">${overview(record)}</td></tr>`,
    '<!--chart-->',
  ];
  if (record.error) {
    parts.push(
      `<tr><td style="padding:8px;border:1px solid ${COLOR.dangerous};font-size:13px;"><b>${e(record.outcome)} in ${e(record.error.step ?? '?')}</b><pre style="${PRE}">${e(record.error.message)}</pre>${record.error.hint ? `What to do: ${e(record.error.hint)}` : ''}</td></tr>`,
    );
  }
  const migrations = byDanger(record.migrations);
  if (migrations.length > 0) {
    parts.push(
      `<tr><td style="padding-top:12px;"><h2 style="font-size:15px;margin:0 0 6px;">Pending migrations, most dangerous first</h2>${migrationTable(migrations)}</td></tr>`,
    );
    for (const migration of migrations)
      parts.push(`<tr><td style="padding-top:12px;">${checklist(migration)}</td></tr>`);
  }
  if (record.trends) parts.push(`<tr><td style="padding-top:12px;">${trendsHtml(record.trends)}</td></tr>`);
  parts.push(
    `<tr><td style="padding-top:12px;"><h2 style="font-size:15px;margin:0 0 6px;">Steps</h2>${stepTable(record)}</td></tr>`,
  );
  parts.push(neutralizedHtml(record)); // #15
  if (record.warnings.length > 0) {
    parts.push(
      `<tr><td style="padding-top:8px;font-size:12px;color:#b54708;">${record.warnings.map((w) => `⚠ ${e(w)}`).join('<br>')}</td></tr>`,
    );
  }
  parts.push(
    `<tr><td style="padding-top:12px;font-size:11px;color:#667085;">run ${e(record.runId)} on ${e(record.host)} · staging-refresh ${e(record.toolVersion)} · the full record is attached as JSON</td></tr>`,
    '</table>',
  );
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(headline(record))}</title></head><body style="margin:0;padding:12px;">${parts.join('\n')}</body></html>`;
}

function overview(record: RunRecord): string {
  const items: string[] = [`Outcome <b>${e(record.outcome)}</b> in ${e(formatDuration(record.durationMs))}`];
  if (record.backup)
    items.push(
      `backup ${e(record.backup.key)} (${e(formatBytes(record.backup.bytes))}, ${e(formatDuration(record.backup.ageMs))} old)`,
    );
  if (record.restore) {
    const rows = record.restore.tables.reduce((sum, t) => sum + t.rows, 0);
    items.push(
      `${record.restore.tables.length} tables, ${e(rows.toLocaleString('en'))} rows, ${e(formatBytes(record.restore.bytes))}`,
    );
  }
  const server = serverLine(record.rehearsal);
  return `${items.join(' · ')}${server ? `<br><span style="font-size:12px;color:#475467;">${e(server)}</span>` : ''}`;
}

function migrationTable(migrations: readonly MigrationRecord[]): string {
  const rows = migrations.map((m) => {
    const writes = Math.max(0, ...m.blocking.map((b) => b.writesBlockedMs));
    const reads = Math.max(0, ...m.blocking.map((b) => b.readsBlockedMs));
    return `<tr><td style="${CELL}">${e(m.name)}</td><td style="${CELL}color:${COLOR[m.verdict]};font-weight:bold;">${e(m.verdict)}</td><td style="${CELL}">${e(formatDuration(m.durationMs))}</td><td style="${CELL}">${e(formatDuration(writes))}</td><td style="${CELL}">${e(formatDuration(reads))}</td><td style="${CELL}">${e(m.rollback.status)}</td></tr>`;
  });
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><th style="${HEAD}">migration</th><th style="${HEAD}">verdict</th><th style="${HEAD}">time</th><th style="${HEAD}">writes blocked</th><th style="${HEAD}">reads blocked</th><th style="${HEAD}">rollback</th></tr>${rows.join('')}</table>`;
}

function checklist(m: MigrationRecord): string {
  const locks = m.locks.filter(isTableLockThatMatters);
  const lockRows = locks
    .map(
      (l) =>
        `<tr><td style="${CELL}">${e(l.relation)}</td><td style="${CELL}">${e(l.mode)}</td><td style="${CELL}">${e(formatDuration(l.heldMs))}</td><td style="${CELL}">${e(l.blocks?.join(', ') ?? '')}</td></tr>`,
    )
    .join('');
  const blocking = m.blocking
    .map(
      (b) =>
        `${e(b.relation)}: writes blocked ${e(formatDuration(b.writesBlockedMs))} (longest ${e(formatDuration(b.longestWriteBlockMs))}), reads blocked ${e(formatDuration(b.readsBlockedMs))}`,
    )
    .join('<br>');
  const statements = m.statements
    .slice(0, 20)
    .map(
      (s) =>
        `line ${s.line}: ${formatDuration(s.durationMs)}${s.serverMs !== undefined ? ` (server ${formatDuration(s.serverMs)})` : ''}${s.rows !== undefined && s.rows !== null ? `, ${s.rows} rows` : ''}${s.error ? ' — FAILED' : ''}\n  ${s.sql.length > 300 ? `${s.sql.slice(0, 300)}…` : s.sql}`,
    )
    .join('\n');
  const lint = m.lint
    .map(
      (f) =>
        `<li><b>${e(f.severity)} ${e(f.rule)}</b> (line ${f.line}): ${e(f.message)}${f.measured ? `<br><i>here: ${e(f.measured)}</i>` : ''}${f.fix ? `<br>safer: ${e(f.fix)}` : ''}</li>`,
    )
    .join('');
  return [
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border:1px solid #d0d5dd;">`,
    `<tr><td style="padding:8px;background:#f2f4f7;font-size:14px;"><b style="color:${COLOR[m.verdict]};">${e(m.verdict.toUpperCase())}</b> ${e(m.name)} <span style="color:#475467;">(${e(m.status)})</span><br><span style="font-size:12px;">${e(m.why)}</span></td></tr>`,
    `<tr><td style="padding:8px;font-size:13px;"><b>1. Run time on this data:</b> ${e(formatDuration(m.durationMs))}${productionLines(
      m,
    )
      .map((line) => `<br>${e(line)}`)
      .join('')}<pre style="${PRE}">${e(statements)}</pre></td></tr>`,
    `<tr><td style="padding:8px;font-size:13px;"><b>2. Locks and measured blocking</b>${lockRows ? `<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><th style="${HEAD}">table</th><th style="${HEAD}">lock</th><th style="${HEAD}">held</th><th style="${HEAD}">blocks</th></tr>${lockRows}</table>` : '<br>no lock that blocks reads or writes'}<div style="padding-top:4px;">${blocking || 'no table probed'}</div></td></tr>`,
    `<tr><td style="padding:8px;font-size:13px;"><b>3. Rollback:</b> ${e(m.rollback.status)}${m.rollback.status === 'rehearsed' ? `, down took ${e(formatDuration(m.rollback.durationMs))}` : ''}${m.rollback.error ? ` — ${e(m.rollback.error)}` : ''}</td></tr>`,
    `<tr><td style="padding:8px;font-size:13px;"><b>4. Monitoring queries</b> (run them while this deploys)${m.monitoringQueries.map((q) => `<pre style="${PRE}">${e(q)}</pre>`).join('')}</td></tr>`,
    lint
      ? `<tr><td style="padding:8px;font-size:13px;"><b>Lint</b><ul style="margin:4px 0;padding-left:18px;">${lint}</ul></td></tr>`
      : '',
    '</table>',
  ].join('');
}

function stepTable(record: RunRecord): string {
  const rows = record.steps
    .map(
      (s) =>
        `<tr><td style="${CELL}">${e(s.name)}</td><td style="${CELL}">${e(s.status)}</td><td style="${CELL}">${e(formatDuration(s.durationMs))}</td></tr>`,
    )
    .join('');
  return `<table role="presentation" cellpadding="0" cellspacing="0"><tr><th style="${HEAD}">step</th><th style="${HEAD}">status</th><th style="${HEAD}">time</th></tr>${rows}</table>`;
}
