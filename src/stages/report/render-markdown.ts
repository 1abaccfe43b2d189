// The report as Markdown, for a pull-request comment or a chat message.
import { formatDuration } from '../../format/duration.js';
import type { RunRecord } from '../../record/run-record.js';
import { byDanger, headline } from './headline.js';
import { productionSummary } from './production-terms.js';
import { neutralizedMarkdown } from './render-neutralized.js';

const MARK = { dangerous: '🔴 dangerous', review: '🟡 review', safe: '🟢 safe' } as const;

/** Markdown report. */
export function renderMarkdown(record: RunRecord): string {
  const out = [`### ${headline(record)}`, ''];
  if (record.error)
    out.push(
      `> **${record.outcome}** in \`${record.error.step}\`: ${record.error.message.split('\n')[0]}`,
      '',
    );
  const migrations = byDanger(record.migrations);
  if (migrations.length > 0) {
    out.push(
      '| migration | verdict | time | writes blocked | reads blocked | rollback |',
      '|---|---|---|---|---|---|',
    );
    for (const m of migrations) {
      const writes = Math.max(0, ...m.blocking.map((b) => b.writesBlockedMs));
      const reads = Math.max(0, ...m.blocking.map((b) => b.readsBlockedMs));
      out.push(
        `| \`${m.name}\` | ${MARK[m.verdict]} | ${formatDuration(m.durationMs)} | ${formatDuration(writes)} | ${formatDuration(reads)} | ${m.rollback.status} |`,
      );
    }
    out.push('');
    for (const m of migrations.filter((x) => x.verdict !== 'safe')) {
      const production = productionSummary(m);
      out.push(`- **${m.name}**: ${m.why}${production ? ` — ${production}` : ''}`);
    }
    out.push('');
  }
  out.push(...neutralizedMarkdown(record)); // #15
  out.push(`Steps: ${record.steps.map((s) => `${s.name} ${formatDuration(s.durationMs)}`).join(' · ')}`);
  return `${out.join('\n')}\n`;
}
