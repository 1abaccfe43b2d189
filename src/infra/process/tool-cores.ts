// How many cores this process may use: the CPUs it is allowed to run on (affinity, as taskset or
// a cpuset sets it) and, in a container, its CPU quota (cgroup v2 `cpu.max`, what a pod's CPU
// limit becomes). Threads beyond it only cost their start-up and switching.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Cores the tool may use (at least 1). */
export function toolCores(cpuMax = readCpuMax()): number {
  const quota = parseCpuMax(cpuMax);
  return Math.max(1, Math.min(availableParallelism(), quota ?? Number.POSITIVE_INFINITY));
}

/**
 * The cores masking threads may take: all of the tool's, or half of them (at least one) when the
 * database server runs on this machine too (`host` a loopback address, `localhost` or a socket
 * directory) — its backends need cores to ingest what the threads mask (measured on 2 shared
 * cores: a helper thread slowed the big table from ~420k to ~310k rows/s).
 */
export function maskingCores(host: string, cores = toolCores()): number {
  const local = host === 'localhost' || host.startsWith('/') || host === '::1' || /^127\./.test(host);
  return local ? Math.max(1, Math.floor(cores / 2)) : cores;
}

/** `max period` → cores (rounded up); undefined for "max" (no quota) or an unreadable file. */
export function parseCpuMax(text: string | undefined): number | undefined {
  const [max, period] = (text ?? '').trim().split(/\s+/);
  const quota = Number(max);
  const length = Number(period ?? 100_000);
  if (!max || max === 'max' || !Number.isFinite(quota) || quota <= 0 || !(length > 0)) return undefined;
  return Math.ceil(quota / length);
}

function readCpuMax(): string | undefined {
  try {
    return readFileSync('/sys/fs/cgroup/cpu.max', 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * How many table-stream workers a restore starts: up to the number of concurrent streams (twice
 * `jobs`) and the masked tables, and no more than the masking cores besides the thread that
 * starts them, which streams tables itself while no worker is ready. With one masking core — one
 * tool core, or two beside a local server — none: a worker there only costs its start-up and a
 * second heap. Measured on 2 cores beside the server (the bench's shared shape), 3 runs each: the
 * restore step 8.69–8.91 s with one worker, 8.54–8.86 s with none, and 0.45 s less CPU.
 */
export function streamWorkers(jobs: number, maskedTables: number, cores: number): number {
  return Math.max(0, Math.min(2 * Math.max(1, jobs), maskedTables, cores - 1));
}
