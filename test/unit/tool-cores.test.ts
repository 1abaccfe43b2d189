import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { maskingCores, parseCpuMax, streamWorkers, toolCores } from '../../src/infra/process/tool-cores.js';

describe('tool cores', () => {
  it('reads a cgroup CPU quota as whole cores, rounded up, and "max" as none', () => {
    expect(parseCpuMax('200000 100000\n')).toBe(2);
    expect(parseCpuMax('150000 100000')).toBe(2);
    expect(parseCpuMax('50000 100000')).toBe(1);
    expect(parseCpuMax('max 100000')).toBeUndefined();
    expect(parseCpuMax(undefined)).toBeUndefined();
    expect(parseCpuMax('garbage')).toBeUndefined();
  });

  it('is the smaller of the CPUs it may run on and its quota, at least one', () => {
    expect(toolCores('max 100000')).toBe(availableParallelism());
    expect(toolCores('100000 100000')).toBe(1);
    expect(toolCores(`${(availableParallelism() + 4) * 100000} 100000`)).toBe(availableParallelism());
  });

  it('leaves half the cores to a database server on the same machine', () => {
    expect(maskingCores('db.internal', 8)).toBe(8);
    expect(maskingCores('10.0.0.5', 8)).toBe(8);
    expect(maskingCores('127.0.0.1', 8)).toBe(4);
    expect(maskingCores('localhost', 2)).toBe(1);
    expect(maskingCores('/var/run/postgresql', 1)).toBe(1);
  });

  it('starts a stream worker per masking core besides the calling thread, up to the streams and the tables', () => {
    // One tool core, or two beside a local server: the calling thread masks, no worker.
    expect(streamWorkers(2, 3, 1)).toBe(0);
    expect(streamWorkers(2, 3, maskingCores('localhost', 2))).toBe(0);
    // Two cores beside a remote server: one worker beside the calling thread.
    expect(streamWorkers(2, 3, maskingCores('db.internal', 2))).toBe(1);
    // Many cores: bounded by the masked tables, then by the concurrent streams (2 × jobs).
    expect(streamWorkers(2, 3, 8)).toBe(3);
    expect(streamWorkers(2, 10, 8)).toBe(4);
    expect(streamWorkers(0, 10, 8)).toBe(2);
    expect(streamWorkers(2, 0, 8)).toBe(0);
  });
});
