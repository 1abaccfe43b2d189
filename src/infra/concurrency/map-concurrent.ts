// One bounded pool for the whole tool: ranged downloads, masked table streams, probes.

/**
 * fn over every item, at most `limit` at once, results in the items' order. After the first
 * failure (or once `signal` aborts) no new item starts; the ones running settle, then the first
 * error is thrown (an abort throws the signal's reason).
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure && !signal?.aborted) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const width = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: width }, worker));
  if (failure) throw failure.error;
  signal?.throwIfAborted();
  return results;
}
