// The first line of every report and the e-mail subject: is the pending deploy safe?
import { formatDuration } from '../../format/duration.js';
import type { MigrationRecord, RunRecord } from '../../record/run-record.js';
import { productionSummary } from './production-terms.js';

/** Most dangerous first, then review, then safe; within a verdict, the longest first. */
export function byDanger(migrations: readonly MigrationRecord[]): MigrationRecord[] {
  const rank = { dangerous: 0, review: 1, safe: 2 } as const;
  return [...migrations].sort((a, b) => rank[a.verdict] - rank[b.verdict] || b.durationMs - a.durationMs);
}

/** What a migration blocks, in a few words: "blocks writes on orders for ~4h02m". */
export function blockingSummary(migration: MigrationRecord): string | undefined {
  const worst = [...migration.blocking].sort(
    (a, b) => Math.max(b.writesBlockedMs, b.readsBlockedMs) - Math.max(a.writesBlockedMs, a.readsBlockedMs),
  )[0];
  if (!worst || Math.max(worst.writesBlockedMs, worst.readsBlockedMs) === 0) return undefined;
  const table = worst.relation.replace(/^public\./, '');
  const what = worst.readsBlockedMs > 0 ? 'reads and writes' : 'writes';
  return `blocks ${what} on ${table} for ~${formatDuration(Math.max(worst.writesBlockedMs, worst.readsBlockedMs))}`;
}

/** "staging refresh 2026-11-23: 3 pending migrations, 1 blocks writes on orders for ~4h02m". */
export function headline(record: RunRecord): string {
  const day = record.startedAt.slice(0, 10);
  if (record.outcome !== 'succeeded') {
    const where = record.error?.step ? ` in ${record.error.step}` : '';
    return `staging refresh ${day} ${record.outcome.toUpperCase()}${where}: ${firstLine(record.error?.message ?? 'no details')}`;
  }
  const ran = record.migrations.filter((m) => m.status !== 'skipped');
  if (ran.length === 0) return `staging refresh ${day}: no pending migrations, staging is fresh`;
  const dangerous = ran.filter((m) => m.verdict === 'dangerous');
  const review = ran.filter((m) => m.verdict === 'review');
  const count = `${ran.length} pending migration${ran.length === 1 ? '' : 's'}`;
  if (dangerous.length > 0) {
    const worst = byDanger(dangerous)[0] as MigrationRecord;
    const blocks = blockingSummary(worst) ?? 'is dangerous';
    const production = productionSummary(worst);
    const terms = production ? `; ${production}` : '';
    if (dangerous.length === 1) return `staging refresh ${day}: ${count}, 1 ${blocks}${terms}`;
    return `staging refresh ${day}: ${count}, ${dangerous.length} dangerous, the worst ${blocks}${terms}`;
  }
  if (review.length > 0)
    return `staging refresh ${day}: ${count}, ${review.length} to review, none dangerous`;
  return `staging refresh ${day}: ${count}, all safe`;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? text;
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
