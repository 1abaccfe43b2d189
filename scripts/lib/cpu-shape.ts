// The deployment's shape on one machine: the PostgreSQL server on some cores and the tool, with
// every process it starts, on the others ("split", as a pod beside a database server), or
// nothing pinned ("shared"). Pinning is taskset(1) on the postmaster and everything it has forked
// (backends forked later inherit it) and on each tool command the bench starts.

import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export type ShapeName = 'split' | 'shared';

export interface CpuShape {
  name: ShapeName;
  serverCpus: string;
  toolCpus: string;
  /** Number of cores the tool may use. */
  toolCores: number;
  /** `file args` run on the tool's cores. */
  command(file: string, args: readonly string[]): [string, string[]];
}

/** Pins the cluster in `clusterDir` for `name` and returns how to start tool commands. */
export async function applyShape(name: ShapeName, clusterDir: string): Promise<CpuShape> {
  const cores = availableParallelism();
  const all = `0-${cores - 1}`;
  const serverCores = Math.max(1, Math.floor(cores / 2));
  const split = name === 'split' && cores > 1;
  const serverCpus = split ? `0-${serverCores - 1}` : all;
  const toolCpus = split ? `${serverCores}-${cores - 1}` : all;
  const postmaster = Number(
    (await readFile(join(clusterDir, 'data', 'postmaster.pid'), 'utf8')).split('\n')[0],
  );
  const children = await execa('pgrep', ['-P', String(postmaster)], { reject: false });
  for (const pid of [postmaster, ...children.stdout.split('\n').filter(Boolean).map(Number)]) {
    await execa('taskset', ['-a', '-p', '-c', serverCpus, String(pid)], { reject: false });
  }
  return {
    name,
    serverCpus,
    toolCpus,
    toolCores: split ? cores - serverCores : cores,
    command: (file, args) => ['taskset', ['-c', toolCpus, file, ...args]],
  };
}
