// The trends section, as text lines and as an HTML fragment, plus an inline SVG chart of the
// durations over the runs compared.
import { formatDuration } from '../../format/duration.js';
import { formatBytes } from '../../format/format-bytes.js';
import type { Trends } from '../../record/run-record.js';
import { escapeHtml as e } from './html.js';

function change(pct: number | null): string {
  if (pct === null) return 'new';
  return `${pct > 0 ? '+' : ''}${pct}%`;
}

/** Plain-text trends. */
export function trendsText(trends: Trends): string[] {
  const lines = [
    ``,
    `Trends (vs run ${trends.comparedWith.previousRunId}, median of the last ${trends.comparedWith.runs})`,
  ];
  for (const step of trends.steps.filter((s) => s.durationMs > 0 || (s.previousMs ?? 0) > 0)) {
    lines.push(
      `  ${step.name.padEnd(8)} ${formatDuration(step.durationMs).padStart(7)}  was ${step.previousMs === null ? '—' : formatDuration(step.previousMs)} (${change(step.changePct)}), median ${step.medianMs === null ? '—' : formatDuration(step.medianMs)}`,
    );
  }
  if (trends.tables.length > 0) {
    lines.push('  grew most:');
    for (const t of trends.tables)
      lines.push(
        `    ${t.name}: ${formatBytes(t.bytes)} (${t.growthBytes >= 0 ? '+' : '−'}${formatBytes(Math.abs(t.growthBytes))}, ${change(t.growthPct)})`,
      );
  }
  for (const m of trends.migrations) {
    lines.push(
      `  pending last time too: ${m.name} ${formatDuration(m.durationMs)} (was ${formatDuration(m.previousMs)}, ${change(m.changePct)})`,
    );
  }
  if (trends.restoreProjection) {
    const p = trends.restoreProjection;
    lines.push(
      `  restore time: ${p.perWeekMs >= 0 ? '+' : '−'}${formatDuration(Math.abs(p.perWeekMs))}/week → ~${formatDuration(p.in4WeeksMs)} in 4 weeks, ~${formatDuration(p.in12WeeksMs)} in 12`,
    );
  }
  return lines;
}

const CELL = 'padding:3px 8px;border-bottom:1px solid #eaecf0;font-size:12px;';

/** HTML trends table (mail-client safe: tables and inline styles). */
export function trendsHtml(trends: Trends): string {
  const stepRows = trends.steps
    .filter((s) => s.durationMs > 0 || (s.previousMs ?? 0) > 0)
    .map(
      (s) =>
        `<tr><td style="${CELL}">${e(s.name)}</td><td style="${CELL}">${e(formatDuration(s.durationMs))}</td><td style="${CELL}">${s.previousMs === null ? '—' : e(formatDuration(s.previousMs))}</td><td style="${CELL}">${e(change(s.changePct))}</td><td style="${CELL}">${s.medianMs === null ? '—' : e(formatDuration(s.medianMs))}</td></tr>`,
    )
    .join('');
  const tables = trends.tables
    .map(
      (t) =>
        `${e(t.name)} ${e(formatBytes(t.bytes))} (${t.growthBytes >= 0 ? '+' : '−'}${e(formatBytes(Math.abs(t.growthBytes)))})`,
    )
    .join(' · ');
  const migrations = trends.migrations
    .map(
      (m) =>
        `${e(m.name)}: ${e(formatDuration(m.durationMs))}, was ${e(formatDuration(m.previousMs))} (${e(change(m.changePct))})`,
    )
    .join('<br>');
  const p = trends.restoreProjection;
  return [
    `<h2 style="font-size:15px;margin:0 0 6px;">Trends</h2>`,
    `<div style="font-size:12px;color:#475467;">vs run ${e(trends.comparedWith.previousRunId)}; median of the last ${trends.comparedWith.runs}</div>`,
    `<table role="presentation" cellpadding="0" cellspacing="0"><tr><th style="${CELL}text-align:left;">step</th><th style="${CELL}text-align:left;">now</th><th style="${CELL}text-align:left;">previous</th><th style="${CELL}text-align:left;">change</th><th style="${CELL}text-align:left;">median</th></tr>${stepRows}</table>`,
    tables ? `<div style="font-size:12px;padding-top:4px;">Grew most: ${tables}</div>` : '',
    migrations
      ? `<div style="font-size:12px;padding-top:4px;">Pending last time too: ${migrations}</div>`
      : '',
    p
      ? `<div style="font-size:12px;padding-top:4px;">Restore time ${p.perWeekMs >= 0 ? '+' : '−'}${e(formatDuration(Math.abs(p.perWeekMs)))}/week: ~${e(formatDuration(p.in4WeeksMs))} in 4 weeks, ~${e(formatDuration(p.in12WeeksMs))} in 12.</div>`
      : '',
  ].join('');
}

/** An inline SVG line chart of total, restore and migrate time over the runs. */
export function trendsChart(trends: Trends, width = 640, height = 220): string {
  const points = trends.series;
  const pad = { left: 56, right: 12, top: 16, bottom: 36 };
  const max = Math.max(1, ...points.map((p) => p.totalMs));
  const x = (i: number) =>
    pad.left + (points.length === 1 ? 0 : (i * (width - pad.left - pad.right)) / (points.length - 1));
  const y = (ms: number) => pad.top + (1 - ms / max) * (height - pad.top - pad.bottom);
  const series = [
    { key: 'totalMs', label: 'total', color: '#344054' },
    { key: 'restoreMs', label: 'restore', color: '#1570ef' },
    { key: 'migrateMs', label: 'migrate', color: '#dc6803' },
  ] as const;
  const lines = series
    .map((s) => {
      const d = points
        .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p[s.key]).toFixed(1)}`)
        .join(' ');
      const dots = points
        .map(
          (p, i) =>
            `<circle cx="${x(i).toFixed(1)}" cy="${y(p[s.key]).toFixed(1)}" r="3" fill="${s.color}"><title>${e(`${s.label} ${formatDuration(p[s.key])} (${p.runId})`)}</title></circle>`,
        )
        .join('');
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>${dots}`;
    })
    .join('');
  const labels = points
    .map(
      (p, i) =>
        `<text x="${x(i).toFixed(1)}" y="${height - 14}" font-size="10" text-anchor="middle" fill="#475467">${e(p.startedAt.slice(5, 10))}</text>`,
    )
    .join('');
  const legend = series
    .map(
      (s, i) => `<text x="${pad.left + i * 80}" y="11" font-size="11" fill="${s.color}">■ ${s.label}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="run durations over time"><line x1="${pad.left}" y1="${y(0)}" x2="${width - pad.right}" y2="${y(0)}" stroke="#d0d5dd"/><text x="${pad.left - 6}" y="${y(max) + 4}" font-size="10" text-anchor="end" fill="#475467">${e(formatDuration(max))}</text><text x="${pad.left - 6}" y="${y(0) + 4}" font-size="10" text-anchor="end" fill="#475467">0</text>${legend}${lines}${labels}</svg>`;
}
