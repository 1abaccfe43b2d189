// vitest globalSetup for the integration project: one cluster for the whole run; each test
// file makes its own databases, so files can run in parallel.
import type { TestProject } from 'vitest/node';
import './provided.js';
import { startCluster } from './pg-cluster.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { info, stop } = await startCluster();
  project.provide('pgCluster', info);
  return stop;
}
