// An archive's table data read straight from the files: the header and TOC as pg_restore reads
// them (pg_backup_archiver.c ReadHead/ReadToc, pg_backup_custom.c, pg_backup_directory.c), then one
// TABLE DATA entry's data — a custom archive's block (a length-prefixed run of chunks, one zlib
// stream) or a directory archive's data file — inflated by Node's zlib in this process. pg_restore
// does the same work in a child process and hands the COPY text over a pipe 4 KiB at a time: its
// inflate (the system zlib), its writes and the reads on this side were about a fifth of masking a
// users table on one core. Only what this reader can check is read this way — archive versions
// 1.12–1.16, no compression or gzip, an entry whose data offset the archive records (or whose data
// file is there), a block whose header names that entry — everything else is pg_restore's
// (`directTableReads` says which, and why not).
import type { FileHandle } from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflate } from 'node:zlib';

/** One TABLE DATA entry: where its block starts and the COPY statement pg_restore prints before it. */
export interface ArchiveTableData {
  dumpId: number;
  schema: string;
  table: string;
  copyStmt: string;
  /** Custom format: the block's offset in the file. */
  offset?: number;
  /** Directory format: the data file's name in the directory (without a compression suffix). */
  file?: string;
  /**
   * Custom format: the bytes from its block to the next entry's (or to the end of the file), as
   * pg_restore's own parallel scheduler sizes a table (_PrepParallelRestore): its data as stored,
   * compressed where the archive is.
   */
  bytes?: number;
}

/** What the direct reader needs to know about an archive, and its TABLE DATA entries. */
export interface CustomArchiveToc {
  intSize: number;
  compression: 'none' | 'gzip';
  /**
   * The TABLE DATA entries with their data's place (and size): listed even where `unreadable`
   * says this reader cannot inflate them — their sizes still order the streams — so a reader
   * checks `unreadable` first.
   */
  tables: ArchiveTableData[];
  /** The database's encoding, as its ENCODING entry sets client_encoding (the COPY text's). */
  encoding?: string;
  /**
   * Every TABLE DATA entry's COPY statement, its data readable here or not (pg_restore prints
   * it as it is: a partition dumped with --load-via-partition-root names its root).
   */
  copies: { schema: string; table: string; copyStmt: string }[];
  /** Why no table's data is read here though the TOC was (lz4 or zstd compression). */
  unreadable?: DirectReadRefusal;
  /**
   * Every entry's names by dump ID, as pg_dump stored them: `pg_restore --list` prints schema,
   * name and owner separated by spaces and quotes none of them, so a name or an owner with a
   * space cannot be told apart there (toc.ts's `withArchiveNames` puts these in its place).
   */
  names: Map<number, ArchiveEntryNames>;
}

/** What one TOC entry names, as stored (pg_restore --list prints these unquoted). */
export interface ArchiveEntryNames {
  desc: string;
  /** Undefined where the entry has no schema (printed "-"). */
  namespace: string | undefined;
  tag: string;
  owner: string;
}

const K_OFFSET_POS_SET = 2;
const BLK_DATA = 1;
const ARCH_CUSTOM = 1;
/** What a directory archive's toc.dat says it is: pg_dump 15 writes 3, ArchiveFormat names it 5. */
const ARCH_DIRECTORY = [3, 5];

/** The largest TOC read directly (an entry is its SQL and a few names: 64 MiB is some 100,000 objects). */
const MAX_TOC_BYTES = 64 * 1024 * 1024;

/** `size` little-endian bytes of `bytes` at `at`, as pg_dump writes an int's magnitude and an offset. */
function littleEndian(bytes: Buffer, at: number, size: number): number {
  let value = 0;
  for (let index = 0; index < size; index++) value += (bytes[at + index] as number) * 2 ** (8 * index);
  return value;
}

/** Thrown by the TOC parser when it needs more of the file than it has read. */
class NeedMore extends Error {}

/** Reads ints, strings and offsets as pg_dump writes them (sign byte + little-endian bytes). */
class TocParser {
  at = 0;
  intSize = 4;
  offSize = 8;

  constructor(private readonly bytes: Buffer) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new NeedMore();
    return this.bytes[this.at++] as number;
  }

  /** A sign byte, then `intSize` bytes. */
  int(): number {
    const sign = this.byte();
    return sign ? -this.bytesLE(this.intSize) : this.bytesLE(this.intSize);
  }

  private bytesLE(size: number): number {
    if (this.at + size > this.bytes.length) throw new NeedMore();
    const value = littleEndian(this.bytes, this.at, size);
    this.at += size;
    return value;
  }

  /** A string as UTF-8 (names, as `pg_restore -l` is read), or each byte a character (`latin1`). */
  str(encoding: 'utf8' | 'latin1' = 'utf8'): string | undefined {
    const length = this.int();
    if (length < 0) return undefined;
    if (this.at + length > this.bytes.length) throw new NeedMore();
    const text = this.bytes.toString(encoding, this.at, this.at + length);
    this.at += length;
    return text;
  }

  /** A state byte, then `offSize` bytes. */
  offset(): { state: number; offset: number } {
    const state = this.byte();
    return { state, offset: this.bytesLE(this.offSize) };
  }
}

/** Why an archive is not read directly. */
export type DirectReadRefusal = string;

/**
 * The header and TOC of a custom-format archive, or why this reader leaves it to pg_restore.
 * Reads as much of the file as the TOC takes (a window that doubles), nothing more.
 */
export async function readCustomArchiveToc(
  path: string,
  format: 'custom' | 'directory' = 'custom',
): Promise<CustomArchiveToc | DirectReadRefusal> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    for (let window = 256 * 1024; ; window *= 2) {
      // A damaged length in the TOC must not read a whole backup into memory: pg_restore's then.
      if (window > MAX_TOC_BYTES) return `a table of contents over ${MAX_TOC_BYTES / 1024 / 1024} MiB`;
      const length = Math.min(window, size);
      const bytes = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.read(bytes, 0, length, 0);
      try {
        return parseToc(bytes.subarray(0, bytesRead), format, format === 'custom' ? size : undefined);
      } catch (error) {
        if (!(error instanceof NeedMore)) throw error;
        if (length >= size) return 'the archive ends inside its table of contents';
      }
    }
  } finally {
    await file.close();
  }
}

/**
 * Every entry's names in a tar-format archive (pg_dump -Ft), whose first member is toc.dat in the
 * directory format's layout; undefined where the file is not that. Names only: its data members
 * are pg_restore's to read.
 */
async function readTarArchiveNames(path: string): Promise<Map<number, ArchiveEntryNames> | undefined> {
  const file = await open(path, 'r');
  try {
    const header = Buffer.alloc(512);
    const { bytesRead } = await file.read(header, 0, 512, 0);
    if (bytesRead < 512 || header.toString('latin1', 0, 8) !== 'toc.dat\0') return undefined;
    const size = Number.parseInt(header.toString('latin1', 124, 136).replace(/\0/g, '').trim(), 8);
    if (!Number.isSafeInteger(size) || size <= 0 || size > MAX_TOC_BYTES) return undefined;
    const bytes = Buffer.allocUnsafe(size);
    if ((await file.read(bytes, 0, size, 512)).bytesRead < size) return undefined;
    const toc = parseToc(bytes, 'directory');
    return typeof toc === 'string' ? undefined : toc.names;
  } catch {
    return undefined; // a member cut short (NeedMore): the listing's reading stands
  } finally {
    await file.close();
  }
}

function parseToc(
  bytes: Buffer,
  format: 'custom' | 'directory',
  /** The archive file's size (custom format): where the last data block ends. */
  fileSize?: number,
): CustomArchiveToc | DirectReadRefusal {
  const p = new TocParser(bytes);
  if (bytes.toString('latin1', 0, 5) !== 'PGDMP') return 'not a custom-format archive';
  p.at = 5;
  const major = p.byte();
  const minor = p.byte();
  const revision = p.byte();
  const version = `${major}.${minor}.${revision}`;
  if (major !== 1 || minor < 12 || minor > 16) return `archive version ${version} (read directly: 1.12–1.16)`;
  p.intSize = p.byte();
  p.offSize = p.byte();
  if (p.intSize < 1 || p.intSize > 8 || p.offSize < 1 || p.offSize > 8)
    return `integer size ${p.intSize}, offset size ${p.offSize}`;
  const kind = p.byte();
  if (format === 'custom' ? kind !== ARCH_CUSTOM : !ARCH_DIRECTORY.includes(kind))
    return `not the ${format} format`;
  let compression: CustomArchiveToc['compression'] = 'none';
  let unreadable: DirectReadRefusal | undefined;
  if (minor >= 15) {
    const algorithm = p.byte(); // pg_compress_algorithm: none, gzip, lz4, zstd
    if (algorithm === 1) compression = 'gzip';
    else if (algorithm !== 0)
      unreadable = `compressed with ${['none', 'gzip', 'lz4', 'zstd'][algorithm] ?? `algorithm ${algorithm}`}`;
  } else compression = p.int() === 0 ? 'none' : 'gzip';
  for (let field = 0; field < 7; field++) p.int(); // creation time
  p.str(); // database name
  p.str(); // server version
  p.str(); // pg_dump version
  const count = p.int();
  const tables: ArchiveTableData[] = [];
  const copies: CustomArchiveToc['copies'] = [];
  const names = new Map<number, ArchiveEntryNames>();
  /** Where every entry's data block starts (table data, large objects): the ends of the others. */
  const starts: number[] = [];
  let encoding: string | undefined;
  for (let entry = 0; entry < count; entry++) {
    const dumpId = p.int();
    if (dumpId <= 0) return `entry ID ${dumpId} out of range`;
    p.int(); // hadDumper
    p.str(); // tableoid
    p.str(); // oid
    const tag = p.str();
    const desc = p.str();
    p.int(); // section
    const defn = p.str('latin1');
    p.str(); // dropStmt
    const copyStmt = p.str('latin1'); // printed as its bytes, in whatever encoding the dump has
    const namespace = p.str();
    p.str(); // tablespace
    if (minor >= 14) p.str(); // tableam
    if (minor >= 16) p.int(); // relkind
    const owner = p.str();
    p.str(); // "false" (WITH OIDS)
    while (p.str() !== undefined); // dependencies, up to a NULL string
    names.set(dumpId, {
      desc: desc ?? '',
      namespace: namespace || undefined,
      tag: tag ?? '',
      owner: owner ?? '',
    });
    if (desc === 'ENCODING') encoding = /client_encoding = '([^']*)'/.exec(defn ?? '')?.[1];
    const table = desc === 'TABLE DATA' && tag && namespace !== undefined && copyStmt;
    if (table) copies.push({ schema: namespace, table: tag, copyStmt });
    if (format === 'directory') {
      const file = p.str(); // the data file's name; empty for entries without data
      if (table && file) tables.push({ dumpId, schema: namespace, table: tag, copyStmt, file });
    } else {
      const { state, offset } = p.offset();
      if (state === K_OFFSET_POS_SET) starts.push(offset);
      if (table && state === K_OFFSET_POS_SET)
        tables.push({ dumpId, schema: namespace, table: tag, copyStmt, offset });
    }
  }
  if (fileSize !== undefined) sizeBlocks(tables, starts, fileSize);
  return {
    intSize: p.intSize,
    compression,
    tables,
    copies,
    names,
    ...(encoding !== undefined && { encoding }),
    ...(unreadable !== undefined && { unreadable }),
  };
}

/** Sets each custom-format table's `bytes`: from its block's start to the next block's, or to the file's end. */
function sizeBlocks(tables: ArchiveTableData[], starts: number[], fileSize: number): void {
  // Each block ends where the next one (in the file's order) starts; the last at the file's end.
  const sorted = [...new Set(starts)].sort((a, b) => a - b);
  const ends = new Map(sorted.map((start, index) => [start, sorted[index + 1] ?? fileSize]));
  for (const table of tables) {
    const { offset } = table;
    const end = offset === undefined ? undefined : ends.get(offset);
    // A file cut short may end before its last block starts: no size then.
    if (offset !== undefined && end !== undefined && end > offset) table.bytes = end - offset;
  }
}

/** The TOC of a custom archive (a file) or a directory archive (its toc.dat), or why not read. */
async function readArchiveToc(archive: string): Promise<CustomArchiveToc | DirectReadRefusal> {
  const directory = (await stat(archive)).isDirectory();
  return readCustomArchiveToc(
    directory ? join(archive, 'toc.dat') : archive,
    directory ? 'directory' : 'custom',
  );
}

/**
 * Every entry's names as a custom, directory or tar archive stores them; undefined where this
 * reader cannot read its TOC (then the listing's reading of them stands).
 */
export async function archiveEntryNames(
  archive: string,
): Promise<Map<number, ArchiveEntryNames> | undefined> {
  try {
    const toc = await readArchiveToc(archive);
    return typeof toc !== 'string' ? toc.names : await readTarArchiveNames(archive);
  } catch {
    return undefined;
  }
}

/** Each table's data block (by `schema.table` key) the restore reads itself, or why none. */
export async function directTableReads(
  archive: string,
  key: (schema: string, table: string) => string,
): Promise<{
  reads: Map<string, DirectTableRead>;
  refused?: string;
  copies: Map<string, CopyStatement>;
  /**
   * Each table's data as the archive stores it, in bytes (compressed where it is), whoever reads
   * it: a custom archive's block, a directory archive's file. What pg_restore's parallel
   * scheduler orders its tables by, largest first.
   */
  sizes: Map<string, number>;
}> {
  const toc = await readArchiveToc(archive);
  const byEnvironment = process.env.STAGING_REFRESH_ARCHIVE_READER === 'pg_restore';
  if (typeof toc === 'string')
    return {
      reads: new Map(),
      refused: byEnvironment ? 'STAGING_REFRESH_ARCHIVE_READER=pg_restore' : toc,
      copies: new Map(),
      sizes: new Map(),
    };
  // What each table's data COPYs into, read from the TOC even where pg_restore reads the data.
  const copies = new Map(
    toc.copies.map((entry) => [
      key(entry.schema, entry.table),
      { copyStmt: entry.copyStmt, ...(toc.encoding !== undefined && { encoding: toc.encoding }) },
    ]),
  );
  // A directory archive's data files, found once: their sizes, and the reads of those this reader inflates.
  const files = new Map<ArchiveTableData, DataFile>();
  for (const entry of toc.tables)
    if (entry.file !== undefined) {
      const found = await dataFile(join(archive, entry.file));
      if (found) files.set(entry, found);
    }
  const sizes = new Map<string, number>();
  for (const entry of toc.tables) {
    const bytes = entry.bytes ?? files.get(entry)?.size;
    if (bytes !== undefined) sizes.set(key(entry.schema, entry.table), bytes);
  }
  if (byEnvironment)
    return { reads: new Map(), refused: 'STAGING_REFRESH_ARCHIVE_READER=pg_restore', copies, sizes };
  if (toc.unreadable !== undefined) return { reads: new Map(), refused: toc.unreadable, copies, sizes };
  const reads = new Map<string, DirectTableRead>();
  for (const entry of toc.tables) {
    const read = {
      intSize: toc.intSize,
      compression: toc.compression,
      dumpId: entry.dumpId,
      copyStmt: entry.copyStmt,
      ...(toc.encoding !== undefined && { encoding: toc.encoding }),
    };
    if (entry.offset !== undefined)
      reads.set(key(entry.schema, entry.table), { ...read, offset: entry.offset });
    else {
      // As pg_restore opens it: the name as written, else with .gz (lz4 and zstd files are its).
      const file = files.get(entry);
      if (file && file.compression !== undefined)
        reads.set(key(entry.schema, entry.table), {
          ...read,
          file: file.file,
          compression: file.compression,
        });
    }
  }
  return { reads, copies, sizes };
}

/** A directory archive's data file as pg_dump named it; `compression` only where this reader inflates it. */
interface DataFile {
  file: string;
  compression: 'none' | 'gzip' | undefined;
  size: number;
}

async function dataFile(path: string): Promise<DataFile | undefined> {
  for (const [suffix, compression] of [
    ['', 'none'],
    ['.gz', 'gzip'],
    ['.lz4', undefined],
    ['.zst', undefined],
  ] as const) {
    const found = await stat(`${path}${suffix}`).catch(() => undefined);
    if (found?.isFile()) return { file: `${path}${suffix}`, compression, size: found.size };
  }
  return undefined;
}

/** A TABLE DATA entry's COPY statement as the archive holds it (its bytes, one character each). */
export interface CopyStatement {
  copyStmt: string;
  /** The archive's encoding, where its table of contents names one. */
  encoding?: string;
}

/** What a worker needs to read one table's data (structured-clone safe). */
export interface DirectTableRead {
  intSize: number;
  /** The data's compression: the archive's (custom), the data file's (directory). */
  compression: 'none' | 'gzip';
  dumpId: number;
  /** Its bytes, one character each (latin1): a dump's encoding is not always UTF-8. */
  copyStmt: string;
  /** Custom format: where the entry's data block starts. */
  offset?: number;
  /** Directory format: the data file's path (gzip: a .gz file). */
  file?: string;
  /** The archive's encoding (its COPY text's), where its table of contents names one. */
  encoding?: string;
}

/**
 * The COPY text pg_restore prints for one TABLE DATA entry (its COPY statement, then the data),
 * read from the archive: a custom archive's data block, or a directory archive's data file.
 * Errors say what was wrong with the data.
 */
export async function* readTableData(
  archive: string,
  read: DirectTableRead,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  const file = await open(read.file ?? archive, 'r');
  try {
    let chunks: AsyncIterable<Buffer>;
    if (read.file !== undefined)
      chunks = file.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false });
    else {
      const offset = read.offset ?? 0;
      const reader = new BlockReader(file, offset, read.intSize);
      const type = await reader.byte();
      const id = await reader.int();
      if (type !== BLK_DATA || id !== read.dumpId)
        throw new Error(
          `the archive's data block at offset ${offset} is not entry ${read.dumpId}'s (block type ${type}, ID ${id})`,
        );
      chunks = reader.chunks(signal);
    }
    yield Buffer.from(read.copyStmt, 'latin1');
    if (read.compression === 'none') {
      for await (const chunk of chunks) {
        signal?.throwIfAborted();
        yield chunk;
      }
      return;
    }
    // One zlib stream (gzip in a directory's .gz file) across the chunks; written as it comes,
    // read as it inflates. The pipeline settles however it ends (a bad chunk, bad zlib data, a
    // reader that stops early).
    const options = { chunkSize: 256 * 1024 };
    const inflate = read.file !== undefined ? createGunzip(options) : createInflate(options);
    const feeding = pipeline(chunks, inflate).catch(() => undefined);
    try {
      for await (const chunk of inflate as AsyncIterable<Buffer>) {
        signal?.throwIfAborted(); // a stopped run stops reading here, as a killed pg_restore would
        yield chunk;
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('Z_')) throw error;
      throw new Error(
        `the archive's data for entry ${read.dumpId} does not inflate: ${(error as Error).message}`,
      );
    } finally {
      inflate.destroy();
      await feeding;
    }
  } finally {
    await file.close();
  }
}

/** Buffered reads of a data block: its header's ints, then its length-prefixed chunks. */
class BlockReader {
  private buffer = Buffer.alloc(0);
  private at = 0;

  constructor(
    private readonly file: FileHandle,
    private position: number,
    private readonly intSize: number,
  ) {}

  private async fill(bytes: number): Promise<void> {
    if (this.buffer.length - this.at >= bytes) return;
    const want = Math.max(bytes, 1024 * 1024);
    const next = Buffer.allocUnsafe(want + (this.buffer.length - this.at));
    this.buffer.copy(next, 0, this.at);
    const kept = this.buffer.length - this.at;
    const { bytesRead } = await this.file.read(next, kept, want, this.position);
    this.position += bytesRead;
    this.buffer = next.subarray(0, kept + bytesRead);
    this.at = 0;
    if (this.buffer.length < bytes) throw new Error('the archive ends inside a data block');
  }

  async byte(): Promise<number> {
    await this.fill(1);
    return this.buffer[this.at++] as number;
  }

  async int(): Promise<number> {
    await this.fill(1 + this.intSize);
    const sign = this.buffer[this.at] as number;
    const value = littleEndian(this.buffer, this.at + 1, this.intSize);
    this.at += 1 + this.intSize;
    return sign ? -value : value;
  }

  /**
   * The block's data up to its zero-length end, its chunks (pg_dump writes them ~4 KiB each)
   * gathered into buffers of about `batch` bytes: each buffer is one write into zlib, a trip to
   * its thread pool.
   */
  async *chunks(signal?: AbortSignal, batch = 1024 * 1024): AsyncGenerator<Buffer> {
    let parts: Buffer[] = [];
    let size = 0;
    for (;;) {
      signal?.throwIfAborted();
      const length = await this.int();
      if (length < 0) throw new Error(`a data chunk of length ${length}`);
      if (length === 0) break;
      await this.fill(length);
      parts.push(this.buffer.subarray(this.at, this.at + length));
      this.at += length;
      size += length;
      if (size >= batch) {
        yield Buffer.concat(parts, size);
        parts = [];
        size = 0;
      }
    }
    if (size > 0) yield Buffer.concat(parts, size);
  }
}
