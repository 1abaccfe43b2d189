// inspect: validates the archive with pg_restore --list, lists its tables, and checks that the
// local pg_restore can read what this pg_dump wrote. Nothing is restored from an archive that
// fails here.

import { archiveEntryNames } from '../../dump/custom-archive.js';
import type { PreparedArchive } from '../../dump/prepare-archive.js';
import { readStart } from '../../dump/read-backup.js';
import { majorVersion, parseToc, type Toc, tablesWithData, withArchiveNames } from '../../dump/toc.js';
import { BadBackupError, ClientToolsError } from '../../errors.js';
import { pgTool } from '../../infra/pg/pg-bin.js';
import { runTool, ToolFailedError } from '../../infra/process/run-tool.js';

/** What inspect found. */
export interface InspectResult {
  format: PreparedArchive['format'];
  compression?: 'gzip';
  toc: Toc;
  /** pg_restore --list output as printed: the basis of -L list files (empty for plain SQL). */
  listing: string;
  /** Tables with data; for plain SQL the restore finds them. */
  tables: string[];
  pgRestoreVersion: string;
}

/** Inspects a prepared archive: pg_restore --list for archives, the header comments of plain SQL. */
export async function inspectArchive(archive: PreparedArchive, signal?: AbortSignal): Promise<InspectResult> {
  const compression = archive.compression ? { compression: archive.compression } : {};
  if (archive.kind === 'plain') {
    const header = await readPlainHeader(archive.path, archive.compression === 'gzip');
    const psql = await toolVersion('psql', signal);
    return { format: 'plain', ...compression, toc: header, listing: '', tables: [], pgRestoreVersion: psql };
  }
  return { ...(await inspectWithPgRestore(archive.path, signal)), format: archive.format, ...compression };
}

async function toolVersion(tool: Parameters<typeof pgTool>[0], signal?: AbortSignal): Promise<string> {
  const version = await runTool({ file: pgTool(tool), args: ['--version'], ...(signal && { signal }) });
  return /(\d+(?:\.\d+)*)/.exec(version.stdout)?.[1] ?? 'unknown';
}

/** "-- Dumped from database version 15.4" and "-- Dumped by pg_dump version 15.4" near the top. */
async function readPlainHeader(path: string, gzip: boolean): Promise<Toc> {
  const text = (await readStart(path, gzip, 16384)).toString('utf8');
  const serverVersion = /^-- Dumped from database version (\S+)/m.exec(text)?.[1];
  const dumpVersion = /^-- Dumped by pg_dump version (\S+)/m.exec(text)?.[1];
  return { entries: [], ...(serverVersion && { serverVersion }), ...(dumpVersion && { dumpVersion }) };
}

async function inspectWithPgRestore(
  path: string,
  signal?: AbortSignal,
): Promise<Omit<InspectResult, 'format' | 'compression'>> {
  const pgRestoreVersion = await toolVersion('pg_restore', signal);
  let listing: string;
  try {
    listing = (
      await runTool({ file: pgTool('pg_restore'), args: ['--list', path], ...(signal && { signal }) })
    ).stdout;
  } catch (error) {
    if (!(error instanceof ToolFailedError)) throw error;
    if (/unsupported version/i.test(error.stderrTail)) {
      throw new BadBackupError(
        `${path} was written by a newer pg_dump than the local pg_restore ${pgRestoreVersion} reads`,
        {
          cause: error,
          hint: 'install PostgreSQL client tools at least as new as the production pg_dump (the image: --build-arg PG_MAJORS)',
        },
      );
    }
    throw new BadBackupError(
      `${path} is not a readable pg_dump archive: pg_restore --list said:\n${error.stderrTail}`,
      {
        cause: error,
        hint: 'the file is corrupt or truncated: check the backup job, or point source at an older backup',
      },
    );
  }
  // Schema, name and owner as the archive stores them where it can be read: the listing's
  // space-separated, unquoted names cannot tell `users` owned by "app owner" from "users app".
  const names = await archiveEntryNames(path);
  const listed = parseToc(listing);
  const toc = names ? withArchiveNames(listed, names) : listed;
  const dumpMajor = majorVersion(toc.dumpVersion);
  const localMajor = majorVersion(pgRestoreVersion);
  if (dumpMajor !== undefined && localMajor !== undefined && dumpMajor > localMajor) {
    // A tool this machine lacks, as every client-tools mismatch: exit 69 (the code stays its own).
    throw new ClientToolsError(
      `${path} was written by pg_dump ${toc.dumpVersion}, newer than the local pg_restore ${pgRestoreVersion}`,
      {
        code: 'pg-restore-too-old',
        hint: `install PostgreSQL ${dumpMajor} client tools (postgresql-client-${dumpMajor}) or set PG_BIN to them`,
      },
    );
  }
  return { toc, listing, tables: tablesWithData(toc), pgRestoreVersion };
}
