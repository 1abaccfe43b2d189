// doctor: can this machine do a refresh? Tools and versions, target reachable, CREATE DATABASE
// allowed, work dir writable with free space. Every check is run and reported.
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { ExitCode } from '../errors.js';
import { describeTarget, type PgTarget, parsePgUrl, withDatabase } from '../infra/pg/connection.js';
import { pgTool } from '../infra/pg/pg-bin.js';
import { withClient } from '../infra/pg/with-client.js';
import { runTool } from '../infra/process/run-tool.js';
import type { SourceCheck } from '../sources/backup-source.js';
import { createSource } from '../sources/create-source.js';
import { guardTarget } from '../stages/guard/guard.js';
import { sessionRightsProblem } from '../stages/swap/session-rights.js';

/** One finding of doctor's (the source backends report theirs in the same shape). */
export type DoctorCheck = SourceCheck;

/** Runs every check; never throws. */
export async function runDoctor(config: Config): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const tool of ['pg_restore', 'psql', 'vacuumdb'] as const) {
    try {
      const { stdout } = await runTool({ file: pgTool(tool), args: ['--version'] });
      checks.push({
        name: tool,
        ok: true,
        detail: `${pgTool(tool)}: ${stdout.trim()}`,
        failCode: ExitCode.unavailable,
      });
    } catch (error) {
      checks.push({
        name: tool,
        ok: false,
        detail: `not runnable: ${(error as Error).message}`,
        failCode: ExitCode.unavailable,
      });
    }
  }
  const live = parsePgUrl(config.target.url);
  const maintenance = withDatabase(live, config.target.maintenanceDb);
  const guard = await guardCheck(config, live); // #15: doctor connects only where a run may
  checks.push(guard);
  try {
    if (!guard.ok) throw new Error('not tried: the guard refused the target');
    await withClient(maintenance, 'staging-refresh:doctor', async (client) => {
      const version = await client.query<{ server_version: string }>('SHOW server_version');
      checks.push({
        name: 'target reachable',
        ok: true,
        detail: `${describeTarget(maintenance)}: PostgreSQL ${version.rows[0]?.server_version}`,
        failCode: ExitCode.unavailable,
      });
      const role = await client.query<{ rolcreatedb: boolean; rolsuper: boolean }>(
        'SELECT rolcreatedb, rolsuper FROM pg_roles WHERE rolname = current_user',
      );
      // #15: the swap ends sessions on live staging; the role must be allowed to.
      const signalProblem = await sessionRightsProblem(client);
      checks.push({
        name: 'may end sessions',
        ok: signalProblem === undefined,
        detail: signalProblem ?? `role ${live.user} may end sessions on live staging at the swap`,
        failCode: ExitCode.refused,
      });
      const row = role.rows[0];
      const ok = row?.rolcreatedb === true || row?.rolsuper === true;
      checks.push({
        name: 'may CREATE DATABASE',
        ok,
        detail: ok
          ? `role ${live.user} may create databases`
          : `role ${live.user} lacks CREATEDB: ALTER ROLE ${live.user} CREATEDB`,
        failCode: ExitCode.refused,
      });
    });
  } catch (error) {
    checks.push({
      name: 'target reachable',
      ok: false,
      detail: (error as Error).message,
      failCode: ExitCode.unavailable,
    });
  }
  checks.push(...(await createSource(config.source).doctor()));
  checks.push(await workDirCheck(config.workDir));
  return checks;
}

async function guardCheck(config: Config, live: PgTarget): Promise<DoctorCheck> {
  try {
    const identity = await guardTarget(config, live);
    return { name: 'guard', ok: true, detail: `${identity} is allowed`, failCode: ExitCode.refused };
  } catch (error) {
    return { name: 'guard', ok: false, detail: (error as Error).message, failCode: ExitCode.refused };
  }
}

async function workDirCheck(dir: string): Promise<DoctorCheck> {
  try {
    await mkdir(dir, { recursive: true });
    const probe = join(dir, `.doctor-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe);
    const fs = await statfs(dir);
    const free = fs.bavail * fs.bsize;
    return {
      name: 'work dir',
      ok: true,
      detail: `${dir} writable, ${(free / 1024 ** 3).toFixed(1)} GiB free`,
      failCode: ExitCode.ioError,
    };
  } catch (error) {
    return {
      name: 'work dir',
      ok: false,
      detail: `${dir}: ${(error as Error).message}`,
      failCode: ExitCode.ioError,
    };
  }
}
