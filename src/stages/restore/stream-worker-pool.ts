// Worker threads for masked table streams, started early and reused: a worker's start-up (tsx's
// loader from source, faker's locale data, the pg driver) cost ~1 s per masked table when every
// table had a thread of its own — and several seconds each on a loaded machine. While no worker
// is ready yet, a table is streamed in the calling thread instead of waiting, so a schema of
// small tables is done before the workers would have been; big ones use the workers once ready.
// A worker that failed to answer is dropped, not reused.
import type { Worker } from 'node:worker_threads';
import { whenAborted } from '../../infra/concurrency/when-aborted.js';
import { toolCores } from '../../infra/process/tool-cores.js';
import { startWorker } from '../../infra/worker/start-worker.js';
import { threadBudget } from './block-masker.js';
import {
  streamTableData,
  type TableStreamData,
  type TableStreamReply,
  type TableStreamRequest,
} from './table-stream-worker.js';

/** A pool of table-stream workers; `close` ends them all. */
export class StreamWorkerPool {
  /**
   * The budget of masking threads (streams and their helpers, block-masker.ts): `cores`, shared
   * with every worker of the pool.
   */
  readonly threads: SharedArrayBuffer;

  constructor(cores = toolCores()) {
    this.threads = threadBudget(cores);
  }

  /** Started, ready and not streaming. */
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  /** Tables streamed in the calling thread because no worker was ready. */
  inThread = 0;

  /** Streams one table on a ready worker, or here when none is ready; stops it when `signal` aborts. */
  async run(data: TableStreamData, signal: AbortSignal): Promise<TableStreamReply> {
    const worker = this.idle.pop();
    if (!worker) {
      this.inThread++;
      return streamTableData(data, signal);
    }
    const stopFollowing = whenAborted(signal, () =>
      worker.postMessage({ abort: true } satisfies TableStreamRequest),
    );
    let healthy = true;
    try {
      return await new Promise<TableStreamReply>((resolve) => {
        const done = (reply: TableStreamReply) => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          resolve(reply);
        };
        const lost = (message: string): void => {
          healthy = false;
          done({ ok: false, failure: { kind: 'load', error: { message: `masking worker: ${message}` } } });
        };
        const onMessage = (message: TableStreamReply | { ready: true }) => {
          if ('ok' in message) done(message);
        };
        const onError = (error: Error) => lost(error.message);
        const onExit = () => lost('it stopped before answering');
        worker.on('message', onMessage);
        worker.once('error', onError);
        worker.once('exit', onExit);
        worker.postMessage({ job: data } satisfies TableStreamRequest);
      });
    } finally {
      stopFollowing();
      if (healthy && !signal.aborted) this.idle.push(worker);
      else {
        this.all.delete(worker);
        await worker.terminate();
      }
    }
  }

  private wanted = 0;
  private closed = false;
  /** Callers of `ready` waiting for a worker to join. */
  private waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  /**
   * Resolves once a started worker is ready (at once if one is idle), rejects if a worker fails
   * to start: for a caller that would rather wait for a worker than stream in its own thread (a
   * test of the worker path).
   */
  ready(): Promise<void> {
    if (this.idle.length > 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /**
   * Starts workers up to `count`, one after another (a start is CPU-heavy: several at once slow
   * down the streams running meanwhile); each joins the pool when it has loaded.
   */
  warm(count: number): void {
    this.wanted = Math.max(this.wanted, count);
    if (this.all.size === 0 && count > 0) this.startNext();
  }

  private startNext(): void {
    if (this.closed || this.all.size >= this.wanted) return;
    const worker = startWorker(import.meta.url, 'table-stream-worker', undefined);
    this.all.add(worker);
    const onReady = (message: { ready?: true }) => {
      if (!message.ready) return;
      worker.off('message', onReady);
      if (this.all.has(worker)) this.idle.push(worker);
      for (const waiter of this.waiting.splice(0)) waiter.resolve();
      this.startNext();
    };
    worker.on('message', onReady);
    worker.once('error', (error) => {
      this.all.delete(worker);
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    });
  }

  /**
   * Ends every worker without waiting for it: a worker still loading (tsx, faker) can take seconds
   * to stop, and an abort must not wait for that (SIGTERM → exit within 10 s). Unreferenced, a
   * stopping worker never keeps the process alive.
   */
  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    for (const worker of workers) {
      worker.unref();
      void worker.terminate().catch(() => undefined);
    }
  }
}
