import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseCpuMax, toolCores } from '../../src/infra/process/tool-cores.js';

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
});
