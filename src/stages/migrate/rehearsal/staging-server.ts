// The staging server every timing is taken on: version, CPUs and memory as the server itself
// sees them, and the settings that change what a migration costs.
import type pg from 'pg';
import type { StagingServerRecord } from '../../../record/run-record.js';

/** Settings that change what a migration costs (index builds, rewrites, parallel workers, I/O). */
export const COST_SETTINGS = [
  'maintenance_work_mem',
  'max_parallel_maintenance_workers',
  'max_parallel_workers',
  'max_worker_processes',
  'work_mem',
  'shared_buffers',
  'effective_io_concurrency',
  'max_wal_size',
  'synchronous_commit',
  'fsync',
] as const;

/**
 * Reads the server's facts. CPUs and memory come from /proc on the server (pg_read_file needs
 * superuser or pg_read_server_files); when it cannot read them they are null and `source` says why.
 */
export async function readStagingServer(client: pg.Client): Promise<StagingServerRecord> {
  const settings = await client.query<{ name: string; value: string }>(
    `SELECT name, current_setting(name) AS value FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name`,
    [COST_SETTINGS],
  );
  const version = await client.query<{ version: string }>(
    `SELECT current_setting('server_version') AS version`,
  );
  const proc = await readProc(client);
  return {
    version: version.rows[0]?.version ?? 'unknown',
    cpus: proc.cpus,
    memoryBytes: proc.memoryBytes,
    source: proc.source,
    settings: Object.fromEntries(settings.rows.map((row) => [row.name, row.value])),
  };
}

async function readProc(
  client: pg.Client,
): Promise<{ cpus: number | null; memoryBytes: number | null; source: string }> {
  try {
    const result = await client.query<{ cpuinfo: string; meminfo: string }>(
      `SELECT pg_read_file('/proc/cpuinfo') AS cpuinfo, pg_read_file('/proc/meminfo') AS meminfo`,
    );
    const row = result.rows[0];
    const cpus = row ? (row.cpuinfo.match(/^processor\s*:/gm) ?? []).length : 0;
    const memKb = row ? /^MemTotal:\s*(\d+)\s*kB/m.exec(row.meminfo)?.[1] : undefined;
    return {
      cpus: cpus > 0 ? cpus : null,
      memoryBytes: memKb ? Number(memKb) * 1024 : null,
      source: "the server's /proc/cpuinfo and /proc/meminfo",
    };
  } catch (error) {
    return {
      cpus: null,
      memoryBytes: null,
      source: `unknown: the server did not let us read /proc (${(error as Error).message})`,
    };
  }
}
