// The plain-text report: terminal summary and the e-mail's text part.
import { formatDuration } from '../../format/duration.js';
import { formatBytes } from '../../format/format-bytes.js';
import type { LockRecord, MigrationRecord, RunRecord } from '../../record/run-record.js';
import { blocksReads, blocksWrites } from '../../sql/lock-conflicts.js';
import { byDanger, headline } from './headline.js';
import { productionLines, serverLine } from './production-terms.js';
import { neutralizedText } from './render-neutralized.js';
import { trendsText } from './render-trends.js';

const MARK = { dangerous: '✖ DANGEROUS', review: '▲ review', safe: '✔ safe' } as const;

/** The whole report as text. */
export function renderText(record: RunRecord): string {
  const out: string[] = [headline(record), ''];
  out.push(`outcome   ${record.outcome} (exit ${record.exitCode}) in ${formatDuration(record.durationMs)}`);
  if (record.backup) {
    out.push(
      `backup    ${record.backup.key} — ${formatBytes(record.backup.bytes)}, ${formatDuration(record.backup.ageMs)} old, ${record.backup.format}`,
    );
  }
  if (record.restore) {
    const rows = record.restore.tables.reduce((sum, t) => sum + t.rows, 0);
    out.push(
      `restored  ${record.restore.tables.length} tables, ${rows.toLocaleString('en')} rows, ${formatBytes(record.restore.bytes)}`,
    );
  }
  const server = serverLine(record.rehearsal);
  if (server) out.push(server);
  if (record.error) {
    out.push('', `ERROR in ${record.error.step ?? '?'}: ${record.error.message}`);
    if (record.error.hint) out.push(`what to do: ${record.error.hint}`);
  }
  const migrations = byDanger(record.migrations);
  if (migrations.length > 0) out.push('', 'Migrations (most dangerous first)');
  for (const migration of migrations) out.push(...migrationText(migration));
  if (record.trends) out.push(...trendsText(record.trends));
  out.push('', 'Steps');
  for (const step of record.steps)
    out.push(`  ${step.name.padEnd(8)} ${step.status.padEnd(9)} ${formatDuration(step.durationMs)}`);
  out.push(...neutralizedText(record)); // #15
  if (record.warnings.length > 0) out.push('', 'Warnings', ...record.warnings.map((w) => `  - ${w}`));
  return `${out.join('\n')}\n`;
}

function migrationText(m: MigrationRecord): string[] {
  const lines = [
    '',
    `${MARK[m.verdict]}  ${m.name}  (${m.status}, ${formatDuration(m.durationMs)})`,
    `  why: ${m.why}`,
  ];
  if (m.caveat) lines.push(`  the replay could not know: ${m.caveat}`);
  if (m.status === 'skipped') return lines;
  lines.push(`  1. run time: ${formatDuration(m.durationMs)} on this data`);
  for (const line of productionLines(m)) lines.push(`       ${line}`);
  for (const s of m.statements.slice(0, 10))
    lines.push(
      `       line ${s.line}: ${formatDuration(s.durationMs)}${s.serverMs !== undefined ? ` (server ${formatDuration(s.serverMs)})` : ''}  ${oneLine(s.sql)}`,
    );
  const locks = m.locks.filter(isTableLockThatMatters);
  lines.push('  2. locks:');
  for (const l of locks)
    lines.push(
      `       ${l.mode} on ${l.relation} held ${formatDuration(l.heldMs)} — blocks ${l.blocks?.join(', ')}`,
    );
  for (const b of m.blocking) {
    lines.push(
      `       measured on ${b.relation}: writes blocked ${formatDuration(b.writesBlockedMs)}, reads blocked ${formatDuration(b.readsBlockedMs)}`,
    );
  }
  lines.push(
    `  3. rollback: ${m.rollback.status}${m.rollback.status === 'rehearsed' ? ` (${formatDuration(m.rollback.durationMs)})` : ''}`,
  );
  lines.push(
    `  4. monitor with: ${m.monitoringQueries.length} queries (see the HTML report or the JSON record)`,
  );
  for (const f of m.lint)
    lines.push(
      `  lint ${f.severity} ${f.rule} (line ${f.line}): ${f.message}${f.measured ? ` — here: ${f.measured}` : ''}`,
    );
  return lines;
}

/** Locks on tables that block reads or writes; the JSON record keeps every lock. */
export function isTableLockThatMatters(lock: LockRecord): boolean {
  return ['r', 'p', 'm'].includes(lock.kind ?? '') && (blocksReads(lock.mode) || blocksWrites(lock.mode));
}

function oneLine(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ');
  return flat.length > 90 ? `${flat.slice(0, 87)}…` : flat;
}
