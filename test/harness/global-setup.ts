// vitest globalSetup for the integration project: one cluster for the whole run; each test
// file makes its own databases, so files can run in parallel. The CLI the tests start is the
// compiled one (run-cli.ts), built here from the sources under test while the cluster starts.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { TestProject } from 'vitest/node';
import './provided.js';
import { startCluster } from './pg-cluster.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function buildCli(): Promise<void> {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  const result = await execa(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    reject: false,
    all: true,
  });
  if (result.exitCode !== 0) throw new Error(`building dist/ for the CLI tests failed:\n${result.all}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [{ info, stop }] = await Promise.all([startCluster(), buildCli()]);
  project.provide('pgCluster', info);
  return stop;
}
