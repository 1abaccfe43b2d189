// How an error becomes the run's outcome, exit code and `error` section.
import { AbortedError, GuardError, type RefreshError, toRefreshError } from '../errors.js';
import type { RunOutcome, RunRecord } from '../record/run-record.js';

/** The error as the run reports it: anything thrown once the signal aborted is an abort. */
export function runError(error: unknown, signal: AbortSignal): RefreshError {
  return signal.aborted
    ? new AbortedError('run aborted by signal', { cause: error, step: toRefreshError(error).step })
    : toRefreshError(error);
}

/** Sets outcome, exit code and the error section from `error`. */
export function applyError(record: RunRecord, error: RefreshError): void {
  record.outcome = outcomeFor(error);
  record.exitCode = error.exitCode;
  record.error = {
    code: error.code,
    message: error.message,
    step: error.step,
    ...(error.hint && { hint: error.hint }),
  };
}

function outcomeFor(error: RefreshError): RunOutcome {
  if (error instanceof AbortedError) return 'aborted';
  if (error instanceof GuardError) return 'refused';
  return 'failed';
}
