// A migration's timing in production's terms (#22): the estimate and how it was made, the
// settings and cache state it was taken with, the lock queue the synthetic traffic saw, and the
// staging server next to it all.
import { formatDuration } from '../../format/duration.js';
import { formatBytes } from '../../format/format-bytes.js';
import type { MigrationRecord, RehearsalRecord } from '../../record/run-record.js';

/** "on production-like settings: ~12m; writes queue behind it; with lock_timeout 5.0s the deploy fails fast", or undefined when nothing was rehearsed. */
export function productionSummary(m: MigrationRecord): string | undefined {
  const parts: string[] = [];
  const configured = m.takenWith?.settings.some((s) => s.via !== 'server') ?? false;
  if (m.production && (configured || m.production.basis !== 'staging')) {
    const label = configured ? 'on production-like settings' : 'estimated for production';
    parts.push(`${label}: ~${formatDuration(m.production.durationMs)}`);
  }
  const traffic = m.traffic;
  if (traffic && traffic.queued.writes > 0)
    parts.push(traffic.queued.reads > 0 ? 'reads and writes queue behind it' : 'writes queue behind it');
  if (traffic?.lockTimeout?.wouldFail)
    parts.push(`with lock_timeout ${formatDuration(traffic.lockTimeout.ms)} the deploy fails fast`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** The lines under a migration's run time: estimate, conditions, lock queue. */
export function productionLines(m: MigrationRecord): string[] {
  const lines: string[] = [];
  if (m.production)
    lines.push(`production estimate: ~${formatDuration(m.production.durationMs)} (${m.production.how})`);
  if (m.takenWith) {
    const settings = m.takenWith.settings
      .filter((s) => s.via !== 'server')
      .map((s) => `${s.name}=${s.value}${s.via === 'evaluated' ? ' (evaluated, not applied)' : ''}`);
    const cache = m.takenWith.cache;
    const tables = cache.tables
      .map(
        (t) =>
          `${t.relation} ${formatBytes(t.bytes)}${t.cachedPct !== undefined ? ` ${t.cachedPct}% in shared_buffers` : ''}`,
      )
      .join(', ');
    lines.push(
      `taken with: ${settings.length > 0 ? settings.join(', ') : "staging's own settings"}; cache ${cache.mode}${cache.method ? ` (${cache.method})` : ''}${tables ? `: ${tables}` : ''}`,
    );
    for (const problem of m.takenWith.unhonoured) lines.push(`not honoured: ${problem}`);
    if (m.takenWith.note) lines.push(m.takenWith.note);
  }
  const t = m.traffic;
  if (t) {
    lines.push(
      `under traffic (${t.ratePerSecond.reads} reads/s, ${t.ratePerSecond.writes} writes/s per table${t.longTransactionMs > 0 ? `, a read transaction held ${formatDuration(t.longTransactionMs)}` : ''}): waited ${formatDuration(t.lockWaitMs)} for its lock${t.waitedBehindLongTransaction ? ' behind the long transaction' : ''}; ${t.queued.writes} writes and ${t.queued.reads} reads queued behind it (at most ${t.peakQueued.writes + t.peakQueued.reads} at once${t.noConnection > 0 ? `; the pool ran dry: ${t.noConnection} operations found no connection` : ''}); slowest write ${formatDuration(t.worstLatencyMs.writes)}, read ${formatDuration(t.worstLatencyMs.reads)}`,
    );
    if (t.lockTimeout) lines.push(t.lockTimeout.message);
    else if (t.lockWaitMs > 0)
      lines.push(
        'no lock_timeout in migrations.settings: the deploy waits as long as the transaction ahead of it, and the queue grows behind it',
      );
  }
  return lines;
}

/** "staging server: PostgreSQL 15.4, 2 CPUs, 23.5 GB; maintenance_work_mem 256MB, …" and production's hardware when known. */
export function serverLine(rehearsal: RehearsalRecord | undefined): string | undefined {
  if (!rehearsal) return undefined;
  const s = rehearsal.server;
  const settings = [
    'maintenance_work_mem',
    'max_parallel_maintenance_workers',
    'max_worker_processes',
    'work_mem',
    'shared_buffers',
  ]
    .filter((name) => s.settings[name] !== undefined)
    .map((name) => `${name} ${s.settings[name]}`)
    .join(', ');
  const hardware = rehearsal.production?.hardware;
  const production = hardware
    ? `; production: ${[
        hardware.cpus && `${hardware.cpus} CPUs`,
        hardware.memoryGb && `${hardware.memoryGb} GB`,
        hardware.speedFactor && `×${hardware.speedFactor} speed`,
      ]
        .filter(Boolean)
        .join(', ')}`
    : '';
  const calibration = rehearsal.production?.calibration;
  return `staging server: PostgreSQL ${s.version}, ${s.cpus ?? '?'} CPUs, ${s.memoryBytes !== null ? formatBytes(s.memoryBytes) : '? memory'}; ${settings}${production}${calibration ? `; calibrated ×${calibration.factor} from ${calibration.samples} production duration(s)` : ''}; cache ${rehearsal.cache}${rehearsal.traffic ? '; synthetic traffic on' : ''}`;
}
