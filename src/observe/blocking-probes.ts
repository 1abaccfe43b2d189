// Measured blocking: while a migration runs, probe connections repeatedly try a cheap read
// (SELECT 1 … LIMIT 1, needs ACCESS SHARE) and a cheap write (DELETE … WHERE false in a
// transaction that is rolled back, needs ROW EXCLUSIVE) on each table it touches, with a short
// lock_timeout. An attempt that times out on the lock was blocked; back-to-back blocked attempts
// form one continuous block. A probe never changes data.

import type { PgTarget } from '../infra/pg/connection.js';
import { isLockTimeout } from '../infra/pg/pg-errors.js';
import { connect } from '../infra/pg/with-client.js';
import type { BlockingRecord } from '../record/run-record.js';

export interface ProbeOptions {
  intervalMs: number;
  lockTimeoutMs: number;
}

interface Span {
  from: number;
  to: number;
}

/** Blocked spans of one kind of operation on one table. */
class BlockLog {
  readonly spans: Span[] = [];
  attempts = 0;

  constructor(private readonly mergeGapMs: number) {}

  blocked(from: number, to: number): void {
    const last = this.spans[this.spans.length - 1];
    if (last && from - last.to <= this.mergeGapMs) last.to = to;
    else this.spans.push({ from, to });
  }

  /** A slow attempt that succeeded right after a blocked one waited for the release: the block lasted until it got through. */
  succeeded(from: number, to: number, slowMs: number): void {
    const last = this.spans[this.spans.length - 1];
    if (last && from - last.to <= 5 && to - from >= slowMs) last.to = to;
  }

  totalMs(): number {
    return Math.round(this.spans.reduce((sum, span) => sum + span.to - span.from, 0));
  }

  longestMs(): number {
    return Math.round(this.spans.reduce((longest, span) => Math.max(longest, span.to - span.from), 0));
  }
}

type ProbeKind = 'read' | 'write';

/** A running set of probes; stop() ends them and returns what they measured. */
export interface RunningProbes {
  tables: string[];
  stop(): Promise<BlockingRecord[]>;
}

/**
 * Connects a reader and a writer per table (`schema.table`, already quoted for SQL in `quoted`)
 * and starts probing. Resolves once every probe is connected, so the migration can start.
 */
export async function startProbes(
  target: PgTarget,
  tables: readonly { name: string; quoted: string }[],
  options: ProbeOptions,
): Promise<RunningProbes> {
  const mergeGap = options.intervalMs + 25;
  const slowMs = Math.max(2, options.lockTimeoutMs / 10);
  const probes = await Promise.all(
    tables.flatMap((table) =>
      (['read', 'write'] as const).map(async (kind) => {
        const client = await connect(target, `staging-refresh:probe:${kind}`);
        await client.query(`SET lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs))}`);
        await client.query('SET statement_timeout = 10000');
        return { table, kind, client, log: new BlockLog(mergeGap), error: undefined as string | undefined };
      }),
    ),
  );
  let running = true;
  const loops = probes.map(async (probe) => {
    const sql =
      probe.kind === 'read'
        ? `SELECT 1 FROM ${probe.table.quoted} LIMIT 1`
        : `BEGIN; DELETE FROM ${probe.table.quoted} WHERE false; ROLLBACK`;
    while (running) {
      const started = performance.now();
      probe.log.attempts++;
      try {
        await probe.client.query(sql);
        probe.log.succeeded(started, performance.now(), slowMs);
      } catch (error) {
        if (probe.kind === 'write') await probe.client.query('ROLLBACK').catch(() => undefined);
        if (isLockTimeout(error)) {
          probe.log.blocked(started, performance.now());
          continue; // blocked: try again at once, so a block is measured without gaps
        }
        probe.error = (error as Error).message;
        return; // the table went away or cannot be probed: stop this probe
      }
      if (running) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  });
  return {
    tables: tables.map((table) => table.name),
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(probes.map((probe) => probe.client.end().catch(() => undefined)));
      return tables.map((table) => {
        const of = (kind: ProbeKind) => probes.find((probe) => probe.table === table && probe.kind === kind);
        const read = of('read');
        const write = of('write');
        return {
          relation: table.name,
          readsBlockedMs: read?.log.totalMs() ?? 0,
          writesBlockedMs: write?.log.totalMs() ?? 0,
          longestWriteBlockMs: write?.log.longestMs() ?? 0,
          longestReadBlockMs: read?.log.longestMs() ?? 0,
          probes: { reads: read?.log.attempts ?? 0, writes: write?.log.attempts ?? 0 },
        };
      });
    },
  };
}
