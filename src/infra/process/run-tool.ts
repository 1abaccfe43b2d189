// Runs an external tool (pg_restore, psql, vacuumdb, git) with explicit argv, never a shell
// string. A failure carries the command, exit code, signal, duration and the tail of stderr.
import { execa } from 'execa';
import { AbortedError } from '../../errors.js';

/** What to run. */
export interface ToolCall {
  file: string;
  args: readonly string[];
  /** Added to the environment (passwords go here, never into args). */
  env?: Record<string, string>;
  cwd?: string;
  signal?: AbortSignal;
  /** Lines of stderr, as they arrive (progress, warnings). */
  onStderrLine?: (line: string) => void;
  /** Keep stdout as bytes (`stdoutBytes`): text in an encoding that is not UTF-8 (a dump's). */
  bytes?: boolean;
}

/** The outcome of a finished tool. */
export interface ToolResult {
  command: string;
  stdout: string;
  /** stdout as it came, when the call asked for bytes (then `stdout` is empty). */
  stdoutBytes?: Buffer;
  stderr: string;
  durationMs: number;
}

/** A tool that exited non-zero or was killed. */
export class ToolFailedError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly signal: string | undefined,
    readonly durationMs: number,
    readonly stderrTail: string,
  ) {
    super(
      `${command} ${exitCode !== undefined ? `exited with code ${exitCode}` : `was killed by ${signal ?? 'a signal'}`}` +
        (stderrTail ? `:\n${indent(stderrTail)}` : ''),
    );
    this.name = 'ToolFailedError';
  }
}

/** Runs the tool to completion; throws ToolFailedError on failure, AbortedError when cancelled. */
export async function runTool(call: ToolCall): Promise<ToolResult> {
  const command = [call.file, ...call.args].join(' ');
  const started = performance.now();
  const child = execa(call.file, [...call.args], {
    env: toolEnv(call.env),
    extendEnv: false,
    cwd: call.cwd,
    stdin: 'ignore',
    cancelSignal: call.signal,
    forceKillAfterDelay: 3000,
    reject: false,
    lines: false,
    maxBuffer: 64 * 1024 * 1024,
    ...(call.bytes && { encoding: 'buffer' as const }),
  });
  if (call.onStderrLine && child.stderr) {
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) call.onStderrLine?.(line);
    });
  }
  const result = await child;
  const durationMs = performance.now() - started;
  const stderr = String(result.stderr ?? '');
  if (result.isCanceled || call.signal?.aborted) {
    throw new AbortedError(`${call.file} was stopped (run aborted)`);
  }
  if (result.failed) {
    throw new ToolFailedError(command, result.exitCode, result.signal, durationMs, tail(stderr, 20));
  }
  if (call.bytes)
    return { command, stdout: '', stdoutBytes: Buffer.from(result.stdout as Uint8Array), stderr, durationMs };
  return { command, stdout: String(result.stdout ?? ''), stderr, durationMs };
}

/** The last `count` non-empty lines. */
export function tail(text: string, count: number): string {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

/**
 * libpq variables that choose the server, inherited from our own environment. A child that is
 * given a database (PGHOST in `env`) gets none of them but ours: PGHOSTADDR or PGSERVICE left in
 * the environment would send it somewhere the guard never looked.
 */
const ROUTING_VARS = [
  'PGHOST',
  'PGHOSTADDR',
  'PGPORT',
  'PGDATABASE',
  'PGUSER',
  'PGPASSWORD',
  'PGSERVICE',
  'PGSERVICEFILE',
  'PGSYSCONFDIR',
  'PGOPTIONS',
  'PGTARGETSESSIONATTRS',
  'PGLOADBALANCEHOSTS',
  'DATABASE_URL',
];

/** The child's environment: ours plus `env`, without inherited routing variables when `env` names a server. */
export function toolEnv(env: Record<string, string> | undefined): Record<string, string | undefined> {
  const inherited: Record<string, string | undefined> = { ...process.env };
  if (env && 'PGHOST' in env) for (const name of ROUTING_VARS) delete inherited[name];
  return { ...inherited, ...env };
}
