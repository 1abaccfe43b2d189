// inspect: validates the archive with pg_restore --list, lists its tables, and checks that the
// local pg_restore can read what this pg_dump wrote. Nothing is restored from an archive that
// fails here.
import { BadBackupError, RunFailedError } from '../../errors.js';
import { pgTool } from '../../infra/pg/pg-bin.js';
import { runTool, ToolFailedError } from '../../infra/process/run-tool.js';
import { type ArchiveFormat, detectArchiveFormat } from './archive-format.js';
import { majorVersion, parseToc, type Toc, tablesWithData } from './toc.js';

/** What inspect found. */
export interface InspectResult {
  format: ArchiveFormat;
  toc: Toc;
  /** pg_restore --list output as printed: the basis of -L list files. */
  listing: string;
  tables: string[];
  pgRestoreVersion: string;
}

/** Inspects the archive at `path`. */
export async function inspectArchive(path: string, signal?: AbortSignal): Promise<InspectResult> {
  const format = await detectArchiveFormat(path);
  if (format !== 'custom' && format !== 'tar') {
    throw new BadBackupError(`${path} is not a pg_dump custom or tar archive (looks like: ${format})`, {
      hint: 'produce backups with pg_dump -Fc (custom format); plain SQL backups are not supported yet',
    });
  }
  const version = await runTool({
    file: pgTool('pg_restore'),
    args: ['--version'],
    ...(signal && { signal }),
  });
  const pgRestoreVersion = /(\d+(?:\.\d+)*)/.exec(version.stdout)?.[1] ?? 'unknown';
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
          hint: 'install PostgreSQL client tools at least as new as the production pg_dump (Dockerfile build arg PG_MAJOR)',
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
  const toc = parseToc(listing);
  const dumpMajor = majorVersion(toc.dumpVersion);
  const localMajor = majorVersion(pgRestoreVersion);
  if (dumpMajor !== undefined && localMajor !== undefined && dumpMajor > localMajor) {
    throw new RunFailedError(
      'pg-restore-too-old',
      `${path} was written by pg_dump ${toc.dumpVersion}, newer than the local pg_restore ${pgRestoreVersion}`,
      {
        hint: `install PostgreSQL ${dumpMajor} client tools (postgresql-client-${dumpMajor}) or set PG_BIN to them`,
      },
    );
  }
  return { format, toc, listing, tables: tablesWithData(toc), pgRestoreVersion };
}
