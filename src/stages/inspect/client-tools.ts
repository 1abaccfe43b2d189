// Which PostgreSQL client tools restore this backup into this staging server. pg_restore must read
// the archive (its major at least the pg_dump's), and the server must accept what pg_restore sends
// before any object: pg_restore 17 begins every restore with `SET transaction_timeout = 0`, a
// setting PostgreSQL 16 and older do not have, so a PostgreSQL 17 client (the newest installed,
// which the run used to take) failed every restore into a 15 or 16 staging server. The run takes
// the staging server's own major when it is installed and reads the archive, and before anything
// is created asks the server whether it knows every setting the chosen tools will send.
import type pg from 'pg';
import type { PreparedArchive } from '../../dump/prepare-archive.js';
import { readStart } from '../../dump/read-backup.js';
import { majorVersion } from '../../dump/toc.js';
import { ClientToolsError } from '../../errors.js';
import { clientBinDirs, pgTool } from '../../infra/pg/pg-bin.js';
import { runTool } from '../../infra/process/run-tool.js';
import type { ClientToolsRecord } from '../../record/run-record.js';

/** One installed set of client tools. */
export interface ClientCandidate {
  /** Undefined: the tools on PATH. */
  dir: string | undefined;
  /** pg_restore's version, e.g. "17.12". */
  version: string;
  major: number;
}

/** The client tools found (clientBinDirs; PATH when none), newest major first. */
export async function clientCandidates(
  env: Record<string, string | undefined> = process.env,
  signal?: AbortSignal,
): Promise<ClientCandidate[]> {
  const dirs: (string | undefined)[] = clientBinDirs(env);
  // PATH's only when nothing is configured: a PG_BIN without a pg_restore is a mistake to name.
  if (dirs.length === 0 && !env.PG_BIN) dirs.push(undefined);
  const found: ClientCandidate[] = [];
  for (const dir of dirs) {
    const printed = await runTool({
      file: pgTool('pg_restore', dir),
      args: ['--version'],
      ...(signal && { signal }),
    }).catch(() => undefined);
    const version = /\(PostgreSQL\) (\d+(?:\.\d+)*)/.exec(printed?.stdout ?? '')?.[1];
    const major = majorVersion(version);
    if (version !== undefined && major !== undefined) found.push({ dir, version, major });
  }
  return found.sort((a, b) => b.major - a.major);
}

/**
 * The tools to restore with: of those that read the archive (major ≥ the pg_dump's), the staging
 * server's own major; else the newest older than the server (an older client into a newer server
 * is what PostgreSQL supports); else the oldest newer one. Undefined when none reads the archive.
 */
export function chooseClient(
  candidates: readonly ClientCandidate[],
  serverMajor: number,
  dumpMajor: number | undefined,
): { candidate: ClientCandidate; reason: string } | undefined {
  const readers = candidates.filter((c) => dumpMajor === undefined || c.major >= dumpMajor);
  const reads = dumpMajor === undefined ? '' : ` that reads pg_dump ${dumpMajor}'s archive`;
  const same = readers.find((c) => c.major === serverMajor);
  if (same) return { candidate: same, reason: `the staging server's major (${serverMajor})` };
  const older = readers.filter((c) => c.major < serverMajor).sort((a, b) => b.major - a.major)[0];
  if (older)
    return {
      candidate: older,
      reason: `no ${serverMajor} client installed; the newest older one${reads}`,
    };
  const newer = readers.filter((c) => c.major > serverMajor).sort((a, b) => a.major - b.major)[0];
  if (newer)
    return {
      candidate: newer,
      reason: `no client of the staging server's major (${serverMajor}) or older${reads}; the oldest newer one`,
    };
  return undefined;
}

/**
 * The settings a restore sends before any object: pg_restore's preamble (what it prints for an
 * empty restore list), or a plain dump's own opening SET lines.
 */
export async function preambleSettings(
  archive: PreparedArchive,
  dir: string | undefined,
  signal?: AbortSignal,
): Promise<string[]> {
  const text =
    archive.kind === 'plain'
      ? (await readStart(archive.path, archive.compression === 'gzip', 16384)).toString('latin1')
      : (
          await runTool({
            file: pgTool('pg_restore', dir),
            args: ['--use-list=/dev/null', '--file=-', archive.path],
            ...(signal && { signal }),
          })
        ).stdout;
  return settingsOfPreamble(text);
}

/**
 * The settings a script's preamble sets (SET and pg_catalog.set_config), lower-cased, sorted. The
 * preamble ends at the first statement that is not a comment, a psql meta-command or a setting.
 * Custom settings (with a dot) are left out: a server takes any of those.
 */
export function settingsOfPreamble(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('--') || trimmed.startsWith('\\')) continue;
    const name =
      /^SET\s+(?:SESSION\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*(?:=|TO\b)/i.exec(trimmed)?.[1] ??
      /^SELECT\s+pg_catalog\.set_config\('([A-Za-z_][A-Za-z0-9_.]*)'/i.exec(trimmed)?.[1];
    if (name === undefined) break;
    names.add(name.toLowerCase());
  }
  return [...names].filter((name) => !name.includes('.')).sort();
}

/**
 * Settings pg_restore begins every restore with, by the major that began sending them (its
 * _doSetFixedOutputState): what doctor, which has no archive to ask pg_restore with, checks.
 */
export const PREAMBLE_SINCE: Readonly<Record<string, number>> = { transaction_timeout: 17 };

/** Of `names`, the settings the connected server does not have. */
export async function unknownSettings(client: pg.Client, names: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT name FROM unnest($1::text[]) AS wanted(name)
      WHERE NOT EXISTS (SELECT FROM pg_settings s WHERE s.name = wanted.name) ORDER BY name`,
    [names],
  );
  return rows.map((row) => row.name);
}

/** The staging server's version: "15.18" and its major. */
export async function serverVersion(client: pg.Client): Promise<{ version: string; major: number }> {
  const { rows } = await client.query<{ version: string; num: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num`,
  );
  const row = rows[0] as { version: string; num: string };
  return { version: row.version.split(' ')[0] as string, major: Math.floor(Number(row.num) / 10000) };
}

/**
 * Chooses the client tools for restoring `archive` into the server `client` is connected to, and
 * checks the server takes their preamble. Throws a ClientToolsError naming the setting and the
 * fix when it would not: before anything is created. Only the preamble is checked (what every
 * restore sends first); a setting a newer pg_restore sent per object would fail the restore itself.
 */
export async function chooseClientTools(
  client: pg.Client,
  archive: PreparedArchive,
  /** What the archive says: the pg_dump that wrote it and the production server it dumped. */
  versions: { dumpVersion?: string | undefined; serverVersion?: string | undefined },
  candidates: readonly ClientCandidate[],
  signal?: AbortSignal,
): Promise<ClientToolsRecord> {
  const server = await serverVersion(client);
  const dumpMajor = majorVersion(versions.dumpVersion);
  const productionMajor = majorVersion(versions.serverVersion);
  // psql feeds a plain dump whatever its major; only an archive must be readable by pg_restore.
  const choice = chooseClient(candidates, server.major, archive.kind === 'plain' ? undefined : dumpMajor);
  const installed = candidates.map((c) => c.version);
  // inspect has refused an archive no installed pg_restore reads; a plain dump takes any.
  if (!choice) throw noClientTools();
  const { candidate, reason } = choice;
  const unknown = await unknownSettings(client, await preambleSettings(archive, candidate.dir, signal));
  if (unknown.length > 0) {
    const what =
      archive.kind === 'plain'
        ? `the plain dump (pg_dump ${versions.dumpVersion ?? 'of an unknown version'}) begins with SET ${unknown.join(', ')}`
        : `pg_restore ${candidate.version} (${candidate.dir ?? 'on PATH'}) begins every restore with SET ${unknown.join(', ')}`;
    throw new ClientToolsError(
      `${what}, which the staging server (PostgreSQL ${server.version}) does not have: the restore would fail on its first statement`,
      { hint: mismatchHint(server.major, productionMajor, dumpMajor, archive.kind === 'plain', installed) },
    );
  }
  return {
    version: candidate.version,
    ...(candidate.dir !== undefined && { dir: candidate.dir }),
    serverVersion: server.version,
    reason,
    installed,
  };
}

/** No pg_restore anywhere the run looks (exit 69, as a missing service). */
export function noClientTools(): ClientToolsError {
  return new ClientToolsError(
    'no PostgreSQL client tools found (pg_restore in PG_BIN, PG_BIN_DIRS, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin or on PATH)',
    { hint: "install postgresql-client-<the staging server's major> or set PG_BIN to those tools" },
  );
}

/** What to do when the server lacks a setting the restore sends first. */
function mismatchHint(
  serverMajor: number,
  productionMajor: number | undefined,
  dumpMajor: number | undefined,
  plain: boolean,
  installed: readonly string[],
): string {
  if (productionMajor !== undefined && productionMajor > serverMajor)
    return `production runs PostgreSQL ${productionMajor}, newer than the staging server: PostgreSQL does not restore into an older major; run staging on PostgreSQL ${productionMajor}`;
  if (dumpMajor !== undefined && dumpMajor > serverMajor)
    return `the backup was taken with pg_dump ${dumpMajor}, which only a pg_restore ${dumpMajor} or newer reads, and those send what PostgreSQL ${serverMajor} lacks: take it with pg_dump ${productionMajor ?? serverMajor} (production's major), or run staging on PostgreSQL ${dumpMajor}`;
  if (plain) return `take the plain dump with pg_dump ${serverMajor} or older`;
  return `install the PostgreSQL ${serverMajor} client tools (postgresql-client-${serverMajor}) beside these: the run takes the staging server's major by itself (installed: ${installed.join(', ')}); or set PG_BIN to them. The image: --build-arg PG_MAJORS`;
}
