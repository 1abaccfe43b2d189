// fetch: streams the backup into the work dir with parallel ranged GETs, retrying only the parts
// that fail, and verifies it before anything is restored. The file appears under its final name
// only once complete and verified; a matching earlier download (same key and ETag) is reused.
import { createHash, type Hash } from 'node:crypto';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { AbortedError, BadBackupError, LocalIoError } from '../../errors.js';
import { formatDuration } from '../../format/duration.js';
import { mapConcurrent } from '../../infra/concurrency/map-concurrent.js';
import { ensureFreeSpace } from '../../infra/fs/free-space.js';
import { isLocalWriteError, workDirError } from '../../infra/fs/work-dir-error.js';
import { isRetryable, type ObjectStore, s3Error } from '../../infra/s3/object-store.js';
import type { Logger } from '../../log/logger.js';
import { bar, progressLine } from '../../log/progress-line.js';
import type { BackupCandidate } from '../backup-source.js';

export interface FetchInput {
  store: ObjectStore;
  candidate: BackupCandidate;
  workDir: string;
  partSize: number;
  concurrency: number;
  log: Logger;
  signal: AbortSignal;
  /** Tries per part (default 6) and the first backoff (default 250 ms, doubled each time, with jitter). */
  retry?: { attempts: number; baseMs: number };
}

export interface FetchResult {
  path: string;
  bytes: number;
  reused: boolean;
  verifiedBy: 'sha256' | 'etag-md5' | 'size';
  durationMs: number;
  bytesPerSecond: number;
  retries: number;
}

interface Verified {
  key: string;
  etag: string;
  bytes: number;
  verifiedBy: FetchResult['verifiedBy'];
}

/** Where the download of `key` lives in the work dir, and its verification sidecar. */
function downloadPaths(workDir: string, key: string): { name: string; path: string; sidecar: string } {
  const name = key.replace(/[^\w.-]+/g, '_');
  const path = join(workDir, 'downloads', name);
  return { name, path, sidecar: `${path}.verified.json` };
}

/** Whether `path` holds a complete, verified download of exactly this object (key, ETag, size). */
async function isVerified(
  path: string,
  sidecar: string,
  object: { key: string; etag: string; bytes: number },
): Promise<boolean> {
  const previous = await readFile(sidecar, 'utf8')
    .then((text) => JSON.parse(text) as Verified)
    .catch(() => undefined);
  const onDisk = await stat(path).catch(() => undefined);
  return (
    previous !== undefined &&
    previous.key === object.key &&
    previous.etag === object.etag &&
    onDisk?.size === object.bytes
  );
}

/** The local path of an earlier verified download of this object, if the work dir has one. */
export async function verifiedDownload(
  workDir: string,
  object: { key: string; etag: string; bytes: number },
): Promise<string | undefined> {
  const { path, sidecar } = downloadPaths(workDir, object.key);
  return (await isVerified(path, sidecar, object)) ? path : undefined;
}

/** Downloads (or reuses) the backup; returns the local path of a verified file. */
export async function fetchBackup(input: FetchInput): Promise<FetchResult> {
  const started = performance.now();
  const dir = join(input.workDir, 'downloads');
  await mkdir(dir, { recursive: true }).catch((error: unknown) => {
    throw new LocalIoError(`cannot create ${dir}: ${(error as Error).message}`, {
      cause: error,
      hint: 'check workDir and its permissions',
    });
  });
  const { name, path, sidecar } = downloadPaths(input.workDir, input.candidate.key);
  // The listing already named the object's size and ETag: the parts start at once and ask for
  // exactly that version (If-Match), while HEAD fetches the checksum alongside. Without them
  // (a caller that did not list), HEAD comes first.
  const heading = input.store.head(input.candidate.key);
  heading.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const { etag: listedEtag, bytes: listedBytes } = input.candidate;
  const listed =
    listedEtag && listedBytes > 0
      ? { key: input.candidate.key, etag: listedEtag, bytes: listedBytes }
      : undefined;
  const object = listed ?? (await heading);

  if (await isVerified(path, sidecar, object)) {
    const previous = JSON.parse(await readFile(sidecar, 'utf8')) as Verified;
    input.log.info({ path, etag: object.etag }, 'backup already downloaded and verified: reusing it');
    return {
      path,
      bytes: object.bytes,
      reused: true,
      verifiedBy: previous.verifiedBy,
      durationMs: 0,
      bytesPerSecond: 0,
      retries: 0,
    };
  }
  // Older downloads only take space: a work dir holds one backup.
  for (const entry of await readdir(dir))
    if (!entry.startsWith(name)) await rm(join(dir, entry), { force: true, recursive: true });
  await ensureFreeSpace(dir, object.bytes, 'the backup');

  const temporary = `${path}.part-${process.pid}`;
  const handle = await open(temporary, 'w+');
  let retries = 0;
  try {
    await handle.truncate(object.bytes);
    const parts: { start: number; end: number }[] = [];
    const partSize = effectivePartSize(object.bytes, input.partSize, input.concurrency);
    for (let start = 0; start < object.bytes; start += partSize)
      parts.push({ start, end: Math.min(object.bytes, start + partSize) - 1 });
    const expecting = heading.then(expectedDigest);
    expecting.catch(() => undefined);
    const digest = new InOrderDigest(
      handle,
      parts,
      expecting.then((expected) => expected?.algorithm),
    );
    const progress = progressReporter(input.log, object.bytes);
    await mapConcurrent(parts, input.concurrency, async (part, index) => {
      // Not `retries += await …`: that reads `retries` before the await and loses other parts' counts.
      const partRetries = await fetchPart(input, handle, part, progress.add, object);
      retries += partRetries;
      digest.partDone(index);
    });
    progress.done();
    const head = await heading;
    if (isOtherVersion(object, head)) throw objectChanged(object, head);
    const actual = await digest.result();
    await handle.close();
    const verifiedBy = await verify(temporary, head, input.candidate.key, await expecting, actual);
    await rename(temporary, path);
    await writeFile(
      sidecar,
      JSON.stringify({ key: head.key, etag: head.etag, bytes: head.bytes, verifiedBy } satisfies Verified),
    );
    const durationMs = performance.now() - started;
    return {
      path,
      bytes: head.bytes,
      reused: false,
      verifiedBy,
      durationMs: Math.round(durationMs),
      bytesPerSecond: Math.round(head.bytes / Math.max(durationMs / 1000, 0.001)),
      retries,
    };
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    if (input.signal.aborted) throw new AbortedError('download stopped', { cause: error });
    // A part that failed because the key now holds another object (a range past its new end) is
    // the object's change, not the store's fault.
    const head =
      listed && !(error instanceof BadBackupError) ? await heading.catch(() => undefined) : undefined;
    if (head && isOtherVersion(object, head)) throw objectChanged(object, head);
    throw workDirError(error, dir); // a full disk is the work dir's (74), not the bucket's
  }
}

/** Whether `now` (a HEAD, a part's response) describes another object than `object`; unknowns are not a difference. */
function isOtherVersion(
  object: { etag: string; bytes: number },
  now: { etag?: string | undefined; bytes?: number | undefined },
): boolean {
  return (
    (object.etag !== '' && now.etag !== undefined && now.etag !== object.etag) ||
    (now.bytes !== undefined && now.bytes !== object.bytes)
  );
}

/** The key was overwritten between the listing and the download (or during it). */
function objectChanged(
  listed: { key: string; etag: string; bytes: number },
  now: { etag: string; bytes: number },
): Error {
  return new BadBackupError(
    `${listed.key} changed while it was being downloaded: listed as ${listed.bytes} bytes with ETag ${listed.etag}, now ${now.bytes} bytes with ETag ${now.etag}`,
    {
      hint: 'the backup job was probably still writing or replacing it; nothing was restored — run again once it is complete',
    },
  );
}

function isPreconditionFailed(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 412 || (error as { name?: string }).name === 'PreconditionFailed';
}

async function fetchPart(
  input: FetchInput,
  handle: FileHandle,
  part: { start: number; end: number },
  progress: (bytes: number) => void,
  object: { key: string; etag: string; bytes: number },
): Promise<number> {
  const { attempts, baseMs } = input.retry ?? { attempts: 6, baseMs: 250 };
  for (let attempt = 1; ; attempt++) {
    let written = 0;
    try {
      // Every part of one object version: If-Match asks the store, the response's ETag and
      // total size check it (some S3-compatible stores ignore If-Match).
      const range = await input.store.getRange(
        object.key,
        part.start,
        part.end,
        input.signal,
        object.etag || undefined,
      );
      if (isOtherVersion(object, { etag: range.etag, bytes: range.totalBytes })) {
        range.body.destroy();
        throw objectChanged(object, { etag: range.etag ?? 'unknown', bytes: range.totalBytes ?? Number.NaN });
      }
      const body = range.body;
      // Chunks arrive in tens of KiB: they are written in batches of 1 MiB, one writev each.
      let batch: Buffer[] = [];
      let batched = 0;
      const flush = async () => {
        if (batched === 0) return;
        await handle.writev(batch, part.start + written);
        written += batched;
        progress(batched);
        batch = [];
        batched = 0;
      };
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (part.start + written + batched + chunk.length > part.end + 1)
          throw new Error('the server sent more bytes than the range asked for');
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= 1024 * 1024) await flush();
      }
      await flush();
      if (written !== part.end - part.start + 1)
        throw Object.assign(
          new Error(`short read: ${written} of ${part.end - part.start + 1} bytes (Premature close)`),
          { code: 'ECONNRESET' },
        );
      return attempt - 1;
    } catch (error) {
      progress(-written);
      if (input.signal.aborted) throw new AbortedError('download stopped', { cause: error });
      if (isLocalWriteError(error)) throw error; // the disk, not the server: no retry, no S3 wording
      if (error instanceof BadBackupError) throw error; // the object changed: no retry
      if (isPreconditionFailed(error)) {
        const head = await input.store.head(object.key).catch(() => undefined);
        throw objectChanged(object, head ?? { etag: 'unknown', bytes: Number.NaN });
      }
      if (!isRetryable(error) || attempt >= attempts) {
        throw isRetryable(error)
          ? s3Error(
              error,
              `downloading bytes ${part.start}-${part.end} of ${input.candidate.key} (${attempt} tries)`,
              input.store.description,
            )
          : s3Error(error, `downloading ${input.candidate.key}`, input.store.description);
      }
      const delay = baseMs * 2 ** (attempt - 1) * (0.5 + Math.random());
      input.log.warn(
        {
          part: `${part.start}-${part.end}`,
          attempt,
          delayMs: Math.round(delay),
          error: (error as Error).message,
        },
        'part failed; retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Size always; then the object's SHA-256 (checksum or `sha256` metadata), else a single-part ETag MD5. */
/** What the object says its content hashes to: SHA-256 (checksum or metadata), else a single-part ETag MD5. */
function expectedDigest(
  head: Awaited<ReturnType<ObjectStore['head']>>,
): { algorithm: 'sha256' | 'md5'; hex: string } | undefined {
  const sha256 =
    head.metadata.sha256?.toLowerCase() ??
    (head.checksumSha256 ? Buffer.from(head.checksumSha256, 'base64').toString('hex') : undefined);
  if (sha256) return { algorithm: 'sha256', hex: sha256 };
  if (/^[0-9a-f]{32}$/.test(head.etag)) return { algorithm: 'md5', hex: head.etag };
  return undefined;
}

/**
 * Hashes the download in byte order while it is still running: each part is read back (from
 * the page cache) as soon as every part before it is complete, so verifying costs almost no
 * time after the last byte arrives.
 */
class InOrderDigest {
  private readonly complete = new Set<number>();
  private next = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;
  private hash: Hash | undefined;
  /** Read-back buffer; one advance() runs at a time (they are chained). */
  private readonly buffer = Buffer.allocUnsafe(4 * 1024 * 1024);

  /** `algorithm` arrives with HEAD, usually long before the first part is complete. */
  constructor(
    private readonly handle: FileHandle,
    private readonly parts: readonly { start: number; end: number }[],
    private readonly algorithm: Promise<'sha256' | 'md5' | undefined>,
  ) {}

  partDone(index: number): void {
    this.complete.add(index);
    this.chain = this.chain
      .then(() => this.advance())
      .catch((error: unknown) => {
        this.failure ??= error;
      });
  }

  /** The hex digest once every part is hashed; undefined when there is nothing to check against. */
  async result(): Promise<string | undefined> {
    await this.chain;
    if (this.failure) throw this.failure;
    const algorithm = await this.algorithm;
    if (algorithm) this.hash ??= createHash(algorithm); // an empty object: no part, still a digest
    return this.hash?.digest('hex');
  }

  private async advance(): Promise<void> {
    const algorithm = await this.algorithm;
    if (!algorithm) return;
    this.hash ??= createHash(algorithm);
    const buffer = this.buffer;
    for (; this.hash && this.complete.has(this.next); this.next++) {
      const part = this.parts[this.next] as { start: number; end: number };
      for (let position = part.start; position <= part.end; ) {
        const length = Math.min(buffer.length, part.end + 1 - position);
        const { bytesRead } = await this.handle.read(buffer, 0, length, position);
        if (bytesRead === 0)
          throw new Error(`could not read back bytes ${position}-${part.end} of the download`);
        this.hash.update(buffer.subarray(0, bytesRead));
        position += bytesRead;
      }
    }
  }
}

/** Size always; then the digest computed during the download against the one the object carries. */
async function verify(
  path: string,
  head: Awaited<ReturnType<ObjectStore['head']>>,
  key: string,
  expected: ReturnType<typeof expectedDigest>,
  actual: string | undefined,
): Promise<FetchResult['verifiedBy']> {
  const { size } = await stat(path);
  if (size !== head.bytes)
    throw new BadBackupError(`${key}: downloaded ${size} bytes, the object has ${head.bytes}`);
  if (!expected) return 'size';
  if (expected.algorithm === 'sha256') {
    if (actual !== expected.hex) {
      throw new BadBackupError(
        `${key}: SHA-256 mismatch: the object says ${expected.hex}, the download is ${actual}`,
        {
          hint: 'the backup is corrupt in the store or was changed while downloading; nothing was restored',
        },
      );
    }
    return 'sha256';
  }
  if (actual !== expected.hex)
    throw new BadBackupError(`${key}: MD5 (ETag) mismatch: expected ${expected.hex}, got ${actual}`, {
      hint: 'nothing was restored',
    });
  return 'etag-md5';
}

function progressReporter(log: Logger, total: number): { add: (bytes: number) => void; done: () => void } {
  const started = performance.now();
  let done = 0;
  let lastLog = started;
  const tty = progressLine();
  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = done / Math.max(seconds, 0.001);
    const eta = rate > 0 ? ((total - done) / rate) * 1000 : Number.POSITIVE_INFINITY;
    return {
      percent: Math.round((done / Math.max(total, 1)) * 100),
      mib: mib(done),
      rate: `${mib(rate)} MiB/s`,
      eta: formatDuration(eta),
    };
  };
  return {
    add(bytes) {
      done += bytes;
      const p = line();
      tty.update(
        `download ${bar(done / Math.max(total, 1))} ${p.percent}% ${p.mib}/${mib(total)} MiB ${p.rate} ETA ${p.eta}`,
      );
      const now = performance.now();
      if (!process.stderr.isTTY && now - lastLog > 5000) {
        log.info(p, 'downloading');
        lastLog = now;
      }
    },
    done() {
      tty.done();
    },
  };
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** Parts no smaller than this (S3's own minimum for multipart uploads; requests cost latency). */
const MIN_PART = 5 * 1024 * 1024;

/**
 * The part size for an object: `partSize` at most, in rounds of `concurrency` equal parts, two
 * rounds at least. Equal rounds keep every connection busy to the end (seven 16 MiB parts on four
 * connections left the last round on three); each further round costs every connection one more
 * first-byte wait. Measured through a 40 MB/s, 30 ms-per-connection proxy on a 114 MB dump, four
 * connections against one GET: one round 3.24×, two 3.27×, four 2.96×. Two rather than one, so
 * that a slow connection holds back at most an eighth of a small object.
 */
export function effectivePartSize(bytes: number, partSize: number, concurrency: number): number {
  const rounds = Math.max(2, Math.ceil(bytes / (concurrency * partSize)));
  const even = Math.ceil(bytes / (concurrency * rounds));
  return Math.max(Math.min(partSize, MIN_PART), Math.min(partSize, even));
}
