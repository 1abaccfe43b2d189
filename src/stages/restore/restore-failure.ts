// What a failed pg_restore or psql said, turned into the error the user needs to read.
import { BadBackupError, RunFailedError, UnavailableError } from '../../errors.js';
import { ToolFailedError } from '../../infra/process/run-tool.js';

/** A pg_restore failure is bad data, an unreachable server, or a failed run. */
export function classifyRestoreFailure(
  error: unknown,
  archive: string,
  section: string,
  where: string,
): Error {
  if (!(error instanceof ToolFailedError)) return error as Error;
  const said = error.stderrTail;
  // Masked values that collide on a unique index: what it is, not a corrupt backup.
  const duplicate = /could not create unique index "([^"]+)"[\s\S]*?Key \(([^)]+)\)/.exec(said);
  if (duplicate) {
    return new RunFailedError(
      'anonymize-not-unique',
      `masked values collide on unique index ${duplicate[1]} (column ${duplicate[2]}): the masking rule for ${duplicate[2]} gave two rows the same value:\n${said}`,
      {
        cause: error,
        hint: 'use a keyed strategy that keeps the column unique (hash), or mask another column of a composite key; the live staging database was not touched',
      },
    );
  }
  if (
    /could not connect|connection to server .* failed|server closed the connection|terminating connection/i.test(
      said,
    )
  ) {
    return new UnavailableError(
      `restoring ${section} of ${archive} into ${where}: lost the server: ${said}`,
      {
        cause: error,
        hint: 'check the staging server; the live database was not touched and the next run starts over',
      },
    );
  }
  if (
    /could not read input file|unexpected end of file|end of file|did not find magic|corrupt|could not uncompress|invalid|not a valid archive|could not find block/i.test(
      said,
    )
  ) {
    return new BadBackupError(`${archive} is corrupt or truncated: pg_restore (${section}) said:\n${said}`, {
      cause: error,
      hint: 'the live staging database was not touched; check the backup job or use an older backup',
    });
  }
  return new RunFailedError(
    'restore-failed',
    `pg_restore (${section}) of ${archive} into ${where} failed:\n${said}`,
    {
      cause: error,
      hint: 'the live staging database was not touched; a missing extension or role on the staging server is a common cause',
    },
  );
}
