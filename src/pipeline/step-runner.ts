// Times each step and records its status; an error leaves the step marked failed and carries
// the step's name.
import { AbortedError, RefreshError, toRefreshError } from '../errors.js';
import type { StepName, StepRecord } from '../record/run-record.js';

/** Collects step records for one run. */
export class StepRunner {
  readonly steps: StepRecord[] = [];

  constructor(private readonly signal: AbortSignal) {}

  /** Runs fn as step `name`. */
  async run<T>(name: StepName, fn: () => Promise<T>): Promise<T> {
    if (this.signal.aborted) throw new AbortedError(`run aborted before ${name}`, { step: name });
    const startedAt = new Date();
    const started = performance.now();
    const finish = (status: StepRecord['status']) =>
      this.steps.push({
        name,
        status,
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        durationMs: Math.round(performance.now() - started),
      });
    try {
      const result = await fn();
      finish('succeeded');
      return result;
    } catch (error) {
      const refreshError =
        this.signal.aborted && !(error instanceof RefreshError)
          ? new AbortedError('run aborted')
          : toRefreshError(error);
      refreshError.step ??= name;
      finish(refreshError instanceof AbortedError ? 'aborted' : 'failed');
      throw refreshError;
    }
  }

  /** Marks a finished step as failed (a step that returns its failure as data, like migrate). */
  markFailed(name: StepName): void {
    const step = this.steps.findLast((candidate) => candidate.name === name);
    if (step) step.status = 'failed';
  }

  /** Records a step that did not run. */
  skip(name: StepName): void {
    const now = new Date().toISOString();
    this.steps.push({ name, status: 'skipped', startedAt: now, finishedAt: now, durationMs: 0 });
  }
}
