// Phases from pg_stat_progress_* for the migration's backend, with how long each lasted and how
// far it got.
import type { ProgressPhaseRecord } from '../record/run-record.js';

/** One row from a progress view. */
export interface ProgressSample {
  command: string;
  relation: string;
  phase: string;
  done: number | null;
  total: number | null;
}

interface Phase extends ProgressSample {
  from: number;
  to: number;
  fraction?: number;
}

/** Collects phases; calls onChange when a new phase starts (for log lines / progress bars). */
export class ProgressTracker {
  private readonly phases: Phase[] = [];

  constructor(
    private readonly onChange?: (sample: ProgressSample, fraction: number | undefined) => void,
    /** Called on every sample, with an ETA for the phase when its fraction is known and moving. */
    private readonly onSample?: (
      sample: ProgressSample,
      fraction: number | undefined,
      etaMs: number | undefined,
    ) => void,
  ) {}

  observe(samples: readonly ProgressSample[], at: number): void {
    for (const sample of samples) {
      const fraction =
        sample.total && sample.total > 0 && sample.done !== null
          ? Math.min(1, sample.done / sample.total)
          : undefined;
      const current = this.phases.find(
        (phase) =>
          phase.command === sample.command &&
          phase.relation === sample.relation &&
          phase.phase === sample.phase &&
          phase.to >= at - 5000,
      );
      if (current) {
        current.to = at;
        if (fraction !== undefined) current.fraction = Math.max(current.fraction ?? 0, fraction);
        const elapsed = at - current.from;
        const eta =
          fraction !== undefined && fraction > 0.01 && elapsed > 0
            ? (elapsed * (1 - fraction)) / fraction
            : undefined;
        this.onSample?.(sample, fraction, eta);
        continue;
      }
      this.phases.push({ ...sample, from: at, to: at, ...(fraction !== undefined && { fraction }) });
      this.onChange?.(sample, fraction);
      this.onSample?.(sample, fraction, undefined);
    }
  }

  result(): ProgressPhaseRecord[] {
    return this.phases.map((phase) => ({
      command: phase.command,
      relation: phase.relation,
      phase: phase.phase,
      durationMs: Math.round(phase.to - phase.from),
      ...(phase.fraction !== undefined && { done: Math.round(phase.fraction * 1000) / 1000 }),
    }));
  }
}
