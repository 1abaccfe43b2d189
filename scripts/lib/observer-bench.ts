// The lock observer's cost, two ways, on a database with an `orders` table:
// - CPU: a migration holds SHARE on orders for `holdSeconds` (what CREATE INDEX holds) with the
//   observer off, then on; the server's CPU (every postgres process, exited probe backends
//   included through the postmaster's reaped-children times) per second of migration. The
//   difference, as a share of one core, is what observing costs a statement that keeps one server
//   core busy — a figure this noisy 2-core machine can measure, where a 5 % wall-time difference
//   drowns in run-to-run spread of ±15 %.
// - wall time: CREATE INDEX without and with the observer, interleaved, in the given CPU shape.

import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import { configSchema } from '../../src/config/schema.js';
import { parsePgUrl } from '../../src/infra/pg/connection.js';
import { silentLogger } from '../../src/log/logger.js';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';
import { sqlAdapter } from '../../src/stages/migrate/adapters/sql-adapter.js';
import { probeOptionsOf } from '../../src/stages/migrate/command-migration.js';
import { executeMigration } from '../../src/stages/migrate/execute-migration.js';
import type { ClusterInfo } from '../../test/harness/pg-cluster.js';
import type { CpuShape } from './cpu-shape.js';
import { median } from './median.js';

export interface ObserverFigures {
  shape: string;
  createIndexWithoutObserverMs: number;
  createIndexWithObserverMs: number;
  observerOverheadPct: number;
  /** Server CPU per second of a migration holding SHARE on orders, observer off / on (ms/s). */
  observerServerCpuOffMsPerS: number;
  observerServerCpuOnMsPerS: number;
  /** (on − off) as a share of one server core. */
  observerServerCorePct: number;
}

const MIGRATIONS = configSchema.shape.migrations.unwrap().parse({ dir: '.' });

/** CPU time (ms) of every postgres process so far, reaped children included. */
export async function serverCpuMs(): Promise<number> {
  let ticks = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.startsWith('postgres') && !cmdline.includes('/bin/postgres')) continue;
      const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
      // utime, stime, cutime, cstime (fields 14–17 of stat; 12–15 after the command)
      ticks += [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index] ?? 0), 0);
    } catch {
      // the process ended between readdir and read
    }
  }
  return ticks * 10; // USER_HZ = 100
}

export async function measureObserver(
  info: ClusterInfo,
  database: string,
  reps: number,
  cpu: CpuShape,
  holdSeconds = 10,
): Promise<ObserverFigures> {
  await loadParser();
  // Every CPU this process may use now, to give them back after (read before pinning: pinned,
  // availableParallelism() says 1 and the rest of the bench ran on one core).
  const all = `0-${availableParallelism() - 1}`;
  // the in-process migration and observer on the tool's cores
  await execa('taskset', ['-a', '-p', '-c', cpu.toolCpus, String(process.pid)], { reject: false });
  const target = parsePgUrl(`postgres://${info.user}@${info.host}:${info.port}/${database}`);
  const migrate = async (sql: string, enabled: boolean) => {
    const result = await executeMigration({
      target,
      adapter: sqlAdapter(),
      file: { id: 'bench', name: 'bench', file: 'bench.sql', sql: '', kind: 'versioned' },
      statements: parseStatements(sql),
      transactional: true,
      recordHistory: false,
      // the defaults of migrations.observer, as a run maps them
      observer: { enabled, intervalMs: MIGRATIONS.observer.interval, ...probeOptionsOf(MIGRATIONS) },
      log: silentLogger(),
      signal: new AbortController().signal,
    });
    if (!result.ok) throw new Error(result.error?.message);
    return result.durationMs;
  };
  const createIndex = async (enabled: boolean) => {
    const ms = await migrate('CREATE INDEX bench_reference_idx ON orders (reference)', enabled);
    await migrate('DROP INDEX bench_reference_idx', false);
    return ms;
  };
  const held = async (enabled: boolean) => {
    const before = await serverCpuMs();
    const ms = await migrate(`LOCK TABLE orders IN SHARE MODE; SELECT pg_sleep(${holdSeconds})`, enabled);
    return ((await serverCpuMs()) - before) / (ms / 1000);
  };
  try {
    await createIndex(true);
    const without: number[] = [];
    const withObserver: number[] = [];
    for (let i = 0; i < reps; i++) {
      without.push(await createIndex(false));
      withObserver.push(await createIndex(true));
    }
    const off: number[] = [];
    const on: number[] = [];
    for (let i = 0; i < reps; i++) {
      off.push(await held(false));
      on.push(await held(true));
    }
    return {
      shape: cpu.name,
      createIndexWithoutObserverMs: Math.round(median(without)),
      createIndexWithObserverMs: Math.round(median(withObserver)),
      observerOverheadPct: Number(((median(withObserver) / median(without) - 1) * 100).toFixed(1)),
      observerServerCpuOffMsPerS: Math.round(median(off)),
      observerServerCpuOnMsPerS: Math.round(median(on)),
      observerServerCorePct: Number(((median(on) - median(off)) / 10).toFixed(1)),
    };
  } finally {
    await execa('taskset', ['-a', '-p', '-c', all, String(process.pid)], { reject: false });
  }
}
