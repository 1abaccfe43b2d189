// Turns whatever the backup job uploaded into something the restore can read:
//   custom (-Fc) and tar (-Ft)            → pg_restore reads them as they are
//   directory format uploaded as a .tar   → unpacked into the work dir, pg_restore reads the directory
//   plain SQL (.sql, .sql.gz)             → streamed to psql by the plain restore, never unpacked
//   any of the archives above gzipped     → decompressed into the work dir first
// Everything it unpacks lives under unpackDir(workDir), which the run removes after the restore.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, Header } from 'tar';
import { AbortedError, BadBackupError } from '../errors.js';
import { ensureFreeSpace } from '../infra/fs/free-space.js';
import { workDirError } from '../infra/fs/work-dir-error.js';
import type { Logger } from '../log/logger.js';
import { type ArchiveFormat, formatFromHeader } from './archive-format.js';
import { readStart } from './read-backup.js';

/** A backup ready for the restore. */
export type PreparedArchive =
  | {
      kind: 'pg_restore';
      /** The file or directory pg_restore reads. */
      path: string;
      format: 'custom' | 'tar' | 'directory';
      compression?: 'gzip';
    }
  | { kind: 'plain'; path: string; format: 'plain'; compression?: 'gzip' };

/** The directory under the work dir that holds what was unpacked. */
export function unpackDir(workDir: string): string {
  return join(workDir, 'unpacked');
}

/** Detects the backup's format and unpacks it when pg_restore cannot read it as it is. */
export async function prepareArchive(
  file: string,
  workDir: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<PreparedArchive> {
  const outer = await readHeader(file, false);
  if (outer === 'plain') return { kind: 'plain', path: file, format: 'plain' };
  if (outer === 'custom') return { kind: 'pg_restore', path: file, format: 'custom' };
  if (outer === 'tar') return tarArchive(file, workDir, log, undefined, signal);
  if (outer !== 'gzip') {
    throw new BadBackupError(
      `${file} is not a pg_dump archive nor a plain SQL dump (unrecognised first bytes)`,
      {
        hint: 'backups must be pg_dump output: custom (-Fc), tar (-Ft), directory (-Fd, uploaded as a .tar), or plain SQL (optionally gzipped)',
      },
    );
  }
  const inner = await readHeader(file, true);
  if (inner === 'plain') return { kind: 'plain', path: file, format: 'plain', compression: 'gzip' };
  if (inner !== 'custom' && inner !== 'tar') {
    throw new BadBackupError(`${file} is gzipped, but what it holds is not a pg_dump archive nor SQL`, {
      hint: 'check the backup job: the file may be corrupt or not a database backup',
    });
  }
  const target = join(unpackDir(workDir), basename(file).replace(/\.gz$/i, '') || 'backup');
  await prepareDir(dirname(target), workDir);
  const { size } = await stat(file);
  // gzip ratios of dumps vary a lot; ask for 3× the compressed size and let ENOSPC speak beyond that.
  await ensureFreeSpace(dirname(target), size * 3, `decompressing ${basename(file)}`);
  log.info({ backup: file, into: target }, 'decompressing the gzipped backup');
  try {
    await pipeline(createReadStream(file), createGunzip(), createWriteStream(target), { signal });
  } catch (error) {
    await rm(target, { force: true });
    throw unpackError(error, file, workDir);
  }
  if (inner === 'custom') return { kind: 'pg_restore', path: target, format: 'custom', compression: 'gzip' };
  return tarArchive(target, workDir, log, 'gzip', signal);
}

/**
 * What prepareArchive would do, without unpacking anything (for `plan`): the archive as it can
 * be read in place, or undefined when a run would have to unpack it first.
 */
export async function peekArchive(
  file: string,
): Promise<{ description: string; readable?: PreparedArchive }> {
  const outer = await readHeader(file, false);
  if (outer === 'plain')
    return {
      description: 'plain SQL',
      readable: { kind: 'plain', path: file, format: 'plain' },
    };
  if (outer === 'custom')
    return {
      description: 'custom',
      readable: { kind: 'pg_restore', path: file, format: 'custom' },
    };
  if (outer === 'tar') {
    const members = await tarMembers(file);
    if (isPgDumpTar(members))
      return { description: 'tar', readable: { kind: 'pg_restore', path: file, format: 'tar' } };
    return { description: 'directory (packed as tar; a run unpacks it)' };
  }
  if (outer !== 'gzip') return { description: 'unknown' };
  const inner = await readHeader(file, true);
  if (inner === 'plain')
    return {
      description: 'plain SQL, gzipped',
      readable: { kind: 'plain', path: file, format: 'plain', compression: 'gzip' },
    };
  return { description: `${inner}, gzipped (a run decompresses it)` };
}

/** A tar is either pg_dump's own tar format or a directory-format dump packed with tar. */
async function tarArchive(
  file: string,
  workDir: string,
  log: Logger,
  /** Set when `file` is this run's own decompressed copy: removed once unpacked. */
  compression: 'gzip' | undefined,
  signal: AbortSignal | undefined,
): Promise<PreparedArchive> {
  const members = await tarMembers(file);
  const compressionField = compression ? { compression } : {};
  if (isPgDumpTar(members)) return { kind: 'pg_restore', path: file, format: 'tar', ...compressionField };
  const toc = members.find((m) => basename(m.path) === 'toc.dat' && m.type === 'File');
  if (!toc) {
    throw new BadBackupError(
      `${file} is a tar archive without a toc.dat: not a pg_dump tar or directory dump`,
      {
        hint: 'upload directory-format dumps as `tar -C dumpdir -cf backup.tar .`',
      },
    );
  }
  const into = join(unpackDir(workDir), `${basename(file).replace(/\.tar$/i, '')}.d`);
  await rm(into, { recursive: true, force: true });
  await prepareDir(into, workDir);
  await ensureFreeSpace(
    into,
    members.reduce((sum, m) => sum + m.size, 0),
    `unpacking ${basename(file)}`,
  );
  log.info({ backup: file, into, members: members.length }, 'unpacking the directory-format dump');
  try {
    await pipeline(createReadStream(file), extract({ cwd: into, strict: true }), { signal });
  } catch (error) {
    await rm(into, { recursive: true, force: true });
    throw unpackError(error, file, workDir);
  }
  if (compression) await rm(file, { force: true });
  return {
    kind: 'pg_restore',
    path: join(into, dirname(toc.path)),
    format: 'directory',
    ...compressionField,
  };
}

interface TarMember {
  path: string;
  type: string;
  size: number;
}

/** Member names and sizes, read header by header: the data in between is skipped, not read. */
export async function tarMembers(file: string): Promise<TarMember[]> {
  const handle = await open(file, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const members: TarMember[] = [];
    const block = Buffer.alloc(512);
    for (let offset = 0; offset + 512 <= fileSize; ) {
      await handle.read(block, 0, 512, offset);
      const header = new Header(block);
      if (header.nullBlock) break;
      if (!header.cksumValid) throw new BadBackupError(`${file}: corrupt tar header at byte ${offset}`);
      const size = header.size ?? 0;
      const path = (header.path ?? '').replace(/^\.\//, '');
      if (path && header.type !== 'ExtendedHeader' && header.type !== 'GlobalExtendedHeader')
        members.push({ path, type: String(header.type), size });
      offset += 512 + Math.ceil(size / 512) * 512;
    }
    return members;
  } finally {
    await handle.close();
  }
}

/** The format of the first bytes of `file`, or of its gzip-decompressed content. */
async function readHeader(file: string, gunzip: boolean): Promise<ArchiveFormat> {
  return formatFromHeader(await readStart(file, gunzip, 512));
}

/** pg_dump -Ft writes toc.dat first and restore.sql last; a packed directory has no restore.sql. */
function isPgDumpTar(members: readonly TarMember[]): boolean {
  return members[0]?.path === 'toc.dat' && members.some((m) => m.path === 'restore.sql');
}

async function prepareDir(dir: string, workDir: string): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw workDirError(error, workDir);
  });
}

function unpackError(error: unknown, file: string, workDir: string): Error {
  if ((error as Error).name === 'AbortError') return new AbortedError(`unpacking ${file} was stopped`);
  const local = workDirError(error, workDir);
  if (local !== error) return local;
  return new BadBackupError(`${file} could not be unpacked: ${(error as Error).message}`, {
    cause: error,
    hint: 'the file is truncated or damaged: check the backup job, or point source at an older backup',
  });
}
