// One psql process fed on stdin with backpressure. ON_ERROR_STOP: the first error ends it, and
// finish() reports what psql said.
import { once } from 'node:events';
import { execa, type ResultPromise } from 'execa';
import { libpqEnv, type PgTarget } from '../../../infra/pg/connection.js';
import { pgTool } from '../../../infra/pg/pg-bin.js';
import { ToolFailedError, tail } from '../../../infra/process/run-tool.js';

export class PsqlSession {
  private readonly child: ResultPromise<{ stdin: 'pipe'; stdout: 'ignore'; reject: false }>;
  private readonly started = performance.now();
  private readonly exited: Promise<unknown>;
  private stdinError: Error | undefined;

  constructor(target: PgTarget, signal: AbortSignal) {
    this.child = execa(
      pgTool('psql'),
      ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', `--dbname=${target.database}`],
      {
        env: libpqEnv(target),
        stdin: 'pipe',
        stdout: 'ignore',
        buffer: { stderr: true },
        reject: false,
        cancelSignal: signal,
      },
    );
    // psql stopping on an error closes its stdin under us: finish() reports why.
    this.child.stdin.on('error', (error: Error) => {
      this.stdinError ??= error;
    });
    this.exited = this.child.then(() => undefined);
  }

  /** Writes text; waits while psql is behind. */
  async write(text: string): Promise<void> {
    if (this.stdinError || this.child.exitCode !== null) return;
    if (!this.child.stdin.write(text)) {
      await Promise.race([once(this.child.stdin, 'drain').catch(() => undefined), this.exited]);
    }
  }

  /** Ends the input and waits; throws ToolFailedError with psql's stderr when it failed. */
  async finish(): Promise<void> {
    if (!this.child.stdin.writableEnded) this.child.stdin.end();
    const result = await this.child;
    if (result.failed || result.exitCode !== 0) {
      throw new ToolFailedError(
        'psql',
        result.exitCode,
        result.signal ?? undefined,
        performance.now() - this.started,
        tail(String(result.stderr ?? ''), 20),
      );
    }
  }

  /** Whether psql has already exited (an error stopped it). */
  get stopped(): boolean {
    return this.child.exitCode !== null || this.stdinError !== undefined;
  }

  kill(): void {
    this.child.kill();
  }
}
