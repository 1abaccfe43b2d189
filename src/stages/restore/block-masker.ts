// Masks one table's COPY lines block by block in the thread streaming it and, once the table has
// shown it is big, on helper threads too (mask-helper.ts): one big table is not bound to one
// core. Blocks keep their order (each one's promise is written to COPY in turn), so the rows
// arrive as they would from one thread. A shared budget of the tool's cores bounds the threads
// of all streams together: each stream holds one slot, a helper takes a free one when there is
// one, so a table still streaming when the others are done gets their cores. A table with a
// masked unique column is split too: each block comes back with its rows' output keys, which the
// stream appends to the column's ledger in the blocks' order (output-ledger.ts).
import type { CopyLines } from '../../anonymize/copy-lines.js';
import { LEAK_SAMPLE_ROWS, type TableLeakSample } from '../../anonymize/leak-sampler.js';
import type { TableTransform } from '../../anonymize/table-transform.js';
import { startWorker } from '../../infra/worker/start-worker.js';
import type { MaskHelperReply, MaskHelperRequest, MaskHelperSetup } from './mask-helper.js';

/** Input seen before a table counts as big enough for helpers (their start-up costs ~1 s of CPU). */
export const HELPERS_AFTER_BYTES = 32 * 1024 * 1024;
/** Blocks waiting at one helper: enough that it never idles between two. */
const QUEUED_PER_HELPER = 2;
const MAX_HELPERS = 15;

/** A masked block, and the output keys its unique masked columns recorded (output-ledger.ts). */
export interface MaskedBlock {
  out: Buffer;
  keys?: Record<string, Uint32Array> | undefined;
}

/** A budget of threads shared by every stream of a restore (an Int32Array over a SharedArrayBuffer). */
export function threadBudget(cores: number): SharedArrayBuffer {
  const budget = new SharedArrayBuffer(4);
  new Int32Array(budget)[0] = cores;
  return budget;
}

class Helper {
  ready = false;
  queued = 0;
  failure: Error | undefined;
  private next = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (block: MaskedBlock) => void; reject: (error: Error) => void }
  >();
  private samplesWanted:
    | { resolve: (samples: TableLeakSample) => void; reject: (error: Error) => void }
    | undefined;

  constructor(
    private readonly worker: ReturnType<typeof startWorker>,
    setup: MaskHelperSetup,
    private readonly events: {
      /** Rows it masked, per block. */
      counted: (rows: number) => void;
      /** Once: it is ready, or failed before that. */
      settled: () => void;
      /** Once: it failed (it takes no more blocks; the blocks it held have failed). */
      lost: (helper: Helper) => void;
    },
  ) {
    worker.on('message', (reply: MaskHelperReply) => this.answer(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', () => this.fail(new Error('a masking helper stopped')));
    this.send({ setup });
  }

  private send(request: MaskHelperRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(request, transfer);
  }

  private answer(reply: MaskHelperReply): void {
    if ('ready' in reply) {
      this.ready = true;
      this.events.settled();
    } else if ('samples' in reply) this.samplesWanted?.resolve(reply.samples);
    else {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      this.queued--;
      if ('error' in reply) waiter?.reject(new Error(reply.error));
      else {
        this.events.counted(reply.rows);
        waiter?.resolve({
          out: Buffer.from(reply.out.buffer, reply.out.byteOffset, reply.out.byteLength),
          keys: reply.keys,
        });
      }
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    if (!this.ready) this.events.settled();
    this.failure = error;
    this.ready = false;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
    this.samplesWanted?.reject(error);
    this.events.lost(this);
  }

  mask(span: Buffer): Promise<MaskedBlock> {
    // A copy of its own to transfer: the span is a view into pg_restore's read buffer.
    const bytes = new Uint8Array(span);
    const id = this.next++;
    this.queued++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send({ block: { id, bytes } }, [bytes.buffer as ArrayBuffer]);
    });
  }

  samples(): Promise<TableLeakSample> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.samplesWanted = { resolve, reject };
      this.send({ finish: true });
    });
  }

  stop(): Promise<number> {
    this.worker.removeAllListeners('exit');
    this.worker.removeAllListeners('error');
    this.worker.on('error', () => undefined);
    return this.worker.terminate();
  }
}

export interface BlockMaskerOptions {
  /** Whether helpers may share the table. */
  splittable: boolean;
  /** The output keys the block just masked in this thread recorded (its unique masked columns'). */
  keys?: () => Record<string, Uint32Array> | undefined;
  /** The restore's shared thread budget; no helpers without one. */
  budget?: SharedArrayBuffer | undefined;
  /** What helpers compile the transform from, given the COPY columns. */
  setup: (columns: string[]) => MaskHelperSetup;
  helpersAfterBytes?: number;
}

export class BlockMasker {
  /** Rows masked by helpers (the stream counts its own). */
  helperRows = 0;
  private readonly helpers: Helper[] = [];
  private starting = false;
  /** A helper failed: the table goes on without more (a start that failed once fails again). */
  private noMore = false;
  private closed = false;
  private seen = 0;
  private readonly budget: Int32Array | undefined;
  private readonly after: number;

  constructor(
    private readonly lines: CopyLines,
    private readonly options: BlockMaskerOptions,
  ) {
    this.budget = options.budget ? new Int32Array(options.budget) : undefined;
    this.after = options.helpersAfterBytes ?? HELPERS_AFTER_BYTES;
    // The stream's own thread holds a slot while it runs.
    if (this.budget) Atomics.sub(this.budget, 0, 1);
  }

  /** How many helpers share the table. */
  get helperCount(): number {
    return this.helpers.length;
  }

  /** How many of them are ready for blocks. */
  get helpersReady(): number {
    return this.helpers.filter((helper) => helper.ready).length;
  }

  /** Masks a span of whole COPY lines: here, or on a helper with room in its queue. */
  submit(span: Buffer, columns: string[]): MaskedBlock | Promise<MaskedBlock> {
    this.seen += span.length;
    this.grow(columns);
    let helper: Helper | undefined;
    for (const candidate of this.helpers)
      if (
        candidate.ready &&
        candidate.queued < QUEUED_PER_HELPER &&
        (!helper || candidate.queued < helper.queued)
      )
        helper = candidate;
    if (helper) return helper.mask(span);
    const masked = (this.lines.transform as TableTransform).bytes(span, 0, span.length);
    this.lines.rows += masked.rows;
    return { out: masked.out, keys: this.options.keys?.() };
  }

  private grow(columns: string[]): void {
    if (!this.budget || !this.options.splittable || this.noMore || this.starting || this.seen < this.after)
      return;
    if (this.helpers.length >= MAX_HELPERS || !this.claim()) return;
    // One start at a time: a start is CPU-heavy, and the table may be done before the next.
    this.starting = true;
    try {
      const helper = new Helper(
        startWorker(import.meta.url, 'mask-helper', undefined),
        this.options.setup(columns),
        {
          counted: (rows) => {
            this.helperRows += rows;
          },
          settled: () => {
            this.starting = false;
          },
          lost: (failed) => this.drop(failed),
        },
      );
      this.helpers.push(helper);
    } catch {
      this.release(1);
      this.starting = false;
      this.noMore = true;
    }
  }

  /** A failed helper leaves and gives back its slot; the table goes on without it. */
  private drop(helper: Helper): void {
    const index = this.helpers.indexOf(helper);
    if (index === -1) return;
    this.helpers.splice(index, 1);
    this.noMore = true;
    this.release(1);
    void helper.stop().catch(() => 0);
  }

  private release(slots: number): void {
    if (this.budget && slots > 0) Atomics.add(this.budget, 0, slots);
  }

  private claim(): boolean {
    const budget = this.budget as Int32Array;
    for (;;) {
      const free = Atomics.load(budget, 0);
      if (free <= 0) return false;
      if (Atomics.compareExchange(budget, 0, free, free - 1) === free) return true;
    }
  }

  /**
   * The leak sample of every thread's share, merged (a helper that failed once its blocks were
   * written took its share with it; the others' stay).
   */
  async finish(own: TableLeakSample): Promise<TableLeakSample> {
    const helped = await Promise.all(this.helpers.map((helper) => helper.samples().catch(() => undefined)));
    const shares = [own, ...helped.filter((share): share is TableLeakSample => share !== undefined)];
    const rows = [];
    for (let index = 0; rows.length < LEAK_SAMPLE_ROWS; index++) {
      const taken = shares.map((share) => share.rows[index]).filter((row) => row !== undefined);
      if (taken.length === 0) break;
      rows.push(...taken);
    }
    return { ...own, rows: rows.slice(0, LEAK_SAMPLE_ROWS) };
  }

  /** Stops the helpers and gives back every slot (once). */
  async close(): Promise<void> {
    const helpers = this.helpers.splice(0);
    this.release(this.closed ? helpers.length : 1 + helpers.length);
    this.closed = true;
    await Promise.all(helpers.map((helper) => helper.stop().catch(() => 0)));
  }
}

/**
 * A masker's blocks handed on in row order: each as soon as it and every block before it are
 * done, a block out at a helper waited for only when too many are out (4, and 2 more a helper).
 */
export class InOrderBlocks {
  private readonly queue: { out?: MaskedBlock; promise?: Promise<MaskedBlock> }[] = [];

  constructor(
    private readonly masker: Pick<BlockMasker, 'helperCount'>,
    private readonly write: (block: MaskedBlock) => Promise<void> | void,
  ) {}

  /** Queues what `masker.submit` gave; a failed block fails the flush that reaches it. */
  push(block: MaskedBlock | Promise<MaskedBlock>): void {
    if (!(block instanceof Promise)) {
      this.queue.push({ out: block });
      return;
    }
    const entry: { out?: MaskedBlock; promise?: Promise<MaskedBlock> } = { promise: block };
    block.then(
      (out) => {
        entry.out = out;
      },
      () => undefined, // reported by the flush that reaches it, not as an unhandled rejection
    );
    this.queue.push(entry);
  }

  /** Writes what is done in order; with `all`, waits for every block. */
  async flush(all: boolean): Promise<void> {
    for (let head = this.queue[0]; head; head = this.queue[0]) {
      if (head.out === undefined && !all && this.queue.length <= 4 + 2 * this.masker.helperCount) return;
      this.queue.shift();
      await this.write(head.out ?? ((await head.promise) as MaskedBlock));
    }
  }
}
