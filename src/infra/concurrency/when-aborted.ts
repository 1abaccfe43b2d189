// An abort listener that also fires for a signal that has already aborted: `addEventListener`
// alone never calls a listener added after the abort, and a SIGTERM that lands between two steps
// would then let the next one run to its end.

/** Calls `action` once when `signal` aborts, at once if it already has; returns the undo. */
export function whenAborted(signal: AbortSignal, action: () => void): () => void {
  if (signal.aborted) {
    action();
    return () => undefined;
  }
  signal.addEventListener('abort', action, { once: true });
  return () => signal.removeEventListener('abort', action);
}
