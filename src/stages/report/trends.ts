// Week over week: each step against the previous run and the median of the last 8, the tables
// that grew most, pending migrations that got slower, and where the restore time is heading.
import type { RunRecord, Trends } from '../../record/run-record.js';

export type { Trends };

/** Trends of `current` against earlier runs (newest first); undefined without history. */
export function computeTrends(current: RunRecord, history: readonly RunRecord[]): Trends | undefined {
  const earlier = history.filter((run) => run.outcome === 'succeeded' && run.runId !== current.runId);
  const previous = earlier[0];
  if (!previous) return undefined;
  const window = earlier.slice(0, 8);
  const steps = current.steps.map((step) => {
    const previousMs = previous.steps.find((s) => s.name === step.name)?.durationMs ?? null;
    const medianMs = median(
      window.map((run) => run.steps.find((s) => s.name === step.name)?.durationMs).filter(isNumber),
    );
    return {
      name: step.name,
      durationMs: step.durationMs,
      previousMs,
      medianMs,
      changePct: pct(step.durationMs, previousMs),
    };
  });
  const tables = (current.restore?.tables ?? [])
    .map((table) => {
      const before = previous.restore?.tables.find((t) => t.name === table.name);
      const previousBytes = before?.bytes ?? 0;
      return {
        name: table.name,
        bytes: table.bytes,
        previousBytes,
        growthBytes: table.bytes - previousBytes,
        growthPct: pct(table.bytes, before ? previousBytes : null),
      };
    })
    .sort((a, b) => b.growthBytes - a.growthBytes)
    .slice(0, 5);
  const migrations = current.migrations
    .filter((m) => m.status === 'applied')
    .flatMap((m) => {
      const before = previous.migrations.find((p) => p.name === m.name && p.status === 'applied');
      return before
        ? [
            {
              name: m.name,
              durationMs: m.durationMs,
              previousMs: before.durationMs,
              changePct: pct(m.durationMs, before.durationMs),
            },
          ]
        : [];
    });
  const series = [current, ...window].reverse().map((run) => ({
    runId: run.runId,
    startedAt: run.startedAt,
    totalMs: run.durationMs,
    restoreMs: run.steps.find((s) => s.name === 'restore')?.durationMs ?? 0,
    migrateMs: run.steps.find((s) => s.name === 'migrate')?.durationMs ?? 0,
  }));
  return {
    comparedWith: { previousRunId: previous.runId, runs: window.length },
    series,
    steps,
    tables,
    migrations,
    ...projection(current, window),
  };
}

function projection(current: RunRecord, window: readonly RunRecord[]): Pick<Trends, 'restoreProjection'> {
  const points = [current, ...window]
    .map((run) => ({
      t: Date.parse(run.startedAt) / 604_800_000,
      y: run.steps.find((s) => s.name === 'restore')?.durationMs,
    }))
    .filter((p): p is { t: number; y: number } => p.y !== undefined);
  if (points.length < 2) return {};
  const meanT = points.reduce((s, p) => s + p.t, 0) / points.length;
  const meanY = points.reduce((s, p) => s + p.y, 0) / points.length;
  const varT = points.reduce((s, p) => s + (p.t - meanT) ** 2, 0);
  if (varT === 0) return {};
  const slope = points.reduce((s, p) => s + (p.t - meanT) * (p.y - meanY), 0) / varT;
  const now = Date.parse(current.startedAt) / 604_800_000;
  const at = (weeks: number) => Math.max(0, Math.round(meanY + slope * (now + weeks - meanT)));
  return { restoreProjection: { perWeekMs: Math.round(slope), in4WeeksMs: at(4), in12WeeksMs: at(12) } };
}

function pct(now: number, before: number | null): number | null {
  if (before === null || before === 0) return null;
  return Math.round(((now - before) / before) * 1000) / 10;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

function isNumber(value: number | undefined): value is number {
  return value !== undefined;
}
