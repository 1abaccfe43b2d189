// doctor: can this machine do a refresh? Tools and versions, target reachable, CREATE DATABASE
// allowed, work dir writable with free space. Every check is run and reported.
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import type { Config } from '../config/schema.js';
import { ExitCode } from '../errors.js';
import { inspectControlDatabase, missingControlDatabase } from '../history/control-database.js';
import { describeTarget, type PgTarget, parsePgUrl, withDatabase } from '../infra/pg/connection.js';
import { withClient } from '../infra/pg/with-client.js';
import { GIT, installCommand, type Prerequisite, RUN_PREREQUISITES } from '../infra/process/prerequisites.js';
import { runTool } from '../infra/process/run-tool.js';
import type { SourceCheck } from '../sources/backup-source.js';
import { createSource } from '../sources/create-source.js';
import { guardTarget } from '../stages/guard/guard.js';
import {
  chooseClient,
  clientCandidates,
  PREAMBLE_SINCE,
  serverVersion,
  unknownSettings,
} from '../stages/inspect/client-tools.js';
import { sessionRightsProblem } from '../stages/swap/session-rights.js';

/** One finding of doctor's (the source backends report theirs in the same shape). */
export type DoctorCheck = SourceCheck;

/** Runs every check; never throws. */
export async function runDoctor(config: Config): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  checks.push(...(await prerequisiteChecks(config)));
  const live = parsePgUrl(config.target.url);
  const maintenance = withDatabase(live, config.target.maintenanceDb);
  const guard = await guardCheck(config, live); // #15: doctor connects only where a run may
  checks.push(guard);
  try {
    if (!guard.ok) throw new Error('not tried: the guard refused the target');
    await withClient(maintenance, 'staging-refresh:doctor', async (client) => {
      const server = await serverVersion(client);
      checks.push({
        name: 'target reachable',
        ok: true,
        detail: `${describeTarget(maintenance)}: PostgreSQL ${server.version}`,
        failCode: ExitCode.unavailable,
      });
      checks.push(await clientToolsCheck(client, server));
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
  if (config.control)
    checks.push(await controlDatabaseCheck(config.control.url, config.target.maintenanceDb));
  checks.push(await workDirCheck(config.workDir));
  return checks;
}

/**
 * The client tools a run would restore with into this staging server (client-tools.ts): failed
 * when they would send a setting the server lacks (pg_restore 17's SET transaction_timeout on 16
 * and older). With no archive at hand, what pg_restore sends is known by major (PREAMBLE_SINCE).
 */
async function clientToolsCheck(
  client: pg.Client,
  server: { version: string; major: number },
): Promise<DoctorCheck> {
  const candidates = await clientCandidates();
  const installed = candidates.map((c) => c.version).join(', ');
  const choice = chooseClient(candidates, server.major, undefined);
  const sent = Object.entries(PREAMBLE_SINCE)
    .filter(([, since]) => choice !== undefined && choice.candidate.major >= since)
    .map(([name]) => name);
  const unknown = await unknownSettings(client, sent);
  const fix = `install postgresql-client-${server.major} or set PG_BIN to those tools`;
  return {
    name: 'client tools',
    ok: choice !== undefined && unknown.length === 0,
    detail: !choice
      ? `no pg_restore found: ${fix}`
      : unknown.length > 0
        ? `pg_restore ${choice.candidate.version} (${choice.candidate.dir ?? 'on PATH'}) sends SET ${unknown.join(', ')}, which PostgreSQL ${server.version} lacks (installed: ${installed}): ${fix}`
        : `pg_restore ${choice.candidate.version} (${choice.candidate.dir ?? 'on PATH'}) for PostgreSQL ${server.version}: ${choice.reason}; installed: ${installed}`,
    failCode: ExitCode.unavailable,
  };
}

/** One check per tool a refresh runs: its version, or that it is missing and the command that installs it. */
export async function prerequisiteChecks(
  config: Config,
  env: Record<string, string | undefined> = process.env,
): Promise<DoctorCheck[]> {
  const list: Prerequisite[] = [...RUN_PREREQUISITES, ...(config.migrations?.git ? [GIT] : [])];
  const checks: DoctorCheck[] = [];
  for (const prerequisite of list) {
    const file = prerequisite.locate(env);
    const check = { name: prerequisite.name, failCode: ExitCode.unavailable };
    if (file === undefined) {
      const pgHint = prerequisite.packages.includes('postgresql-client')
        ? ' (or set PG_BIN to a PostgreSQL bin directory)'
        : '';
      checks.push({
        ...check,
        ok: false,
        detail: `missing, needed for ${prerequisite.neededFor}: install it with \`${installCommand([prerequisite])}\`${pgHint}`,
      });
      continue;
    }
    try {
      const { stdout } = await runTool({ file, args: ['--version'] });
      checks.push({ ...check, ok: true, detail: `${file}: ${stdout.trim()}` });
    } catch (error) {
      checks.push({ ...check, ok: false, detail: `${file} not runnable: ${(error as Error).message}` });
    }
  }
  return checks;
}

/** The control database: there, created by the first run, or the statement a superuser must run. */
async function controlDatabaseCheck(url: string, maintenanceDb: string): Promise<DoctorCheck> {
  const control = parsePgUrl(url);
  const check = { name: 'control database', failCode: ExitCode.config };
  try {
    const state = await inspectControlDatabase(control, maintenanceDb);
    if (state.exists) return { ...check, ok: true, detail: `${describeTarget(control)} exists` };
    if (state.mayCreate)
      return {
        ...check,
        ok: true,
        detail: `${control.database} does not exist yet: the first run creates it (role ${control.user} may create databases)`,
      };
    const error = missingControlDatabase(control, state.statement);
    return { ...check, ok: false, detail: `${error.message}: ${error.hint}` };
  } catch (error) {
    return { ...check, ok: false, detail: (error as Error).message, failCode: ExitCode.unavailable };
  }
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
