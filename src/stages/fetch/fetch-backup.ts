// fetch: streams the backup into the work dir with parallel ranged GETs, retrying only the parts
// that fail, and verifies it before anything is restored. The file appears under its final name
// only once complete and verified; a matching earlier download (same key and ETag) is reused.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatDuration } from '../../config/duration.js';
import { AbortedError, BadBackupError, LocalIoError } from '../../errors.js';
import { ensureFreeSpace } from '../../infra/fs/free-space.js';
import { isRetryable, type ObjectStore, s3Error } from '../../infra/s3/object-store.js';
import type { Logger } from '../../log/logger.js';
import type { BackupCandidate } from '../locate/backup-candidate.js';

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
  const name = input.candidate.key.replace(/[^\w.-]+/g, '_');
  const path = join(dir, name);
  const sidecar = `${path}.verified.json`;
  const head = await input.store.head(input.candidate.key);

  const previous = await readFile(sidecar, 'utf8')
    .then((text) => JSON.parse(text) as Verified)
    .catch(() => undefined);
  const onDisk = await stat(path).catch(() => undefined);
  if (previous && previous.key === head.key && previous.etag === head.etag && onDisk?.size === head.bytes) {
    input.log.info({ path, etag: head.etag }, 'backup already downloaded and verified: reusing it');
    return {
      path,
      bytes: head.bytes,
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
  await ensureFreeSpace(dir, head.bytes, 'the backup');

  const temporary = `${path}.part-${process.pid}`;
  const handle = await open(temporary, 'w');
  let retries = 0;
  try {
    await handle.truncate(head.bytes);
    const parts: { start: number; end: number }[] = [];
    for (let start = 0; start < head.bytes; start += input.partSize)
      parts.push({ start, end: Math.min(head.bytes, start + input.partSize) - 1 });
    const progress = progressReporter(input.log, head.bytes);
    const queue = [...parts];
    const worker = async () => {
      for (let part = queue.shift(); part; part = queue.shift()) {
        // Not `retries += await …`: that reads `retries` before the await and loses other workers' counts.
        const partRetries = await fetchPart(input, handle, part, progress.add);
        retries += partRetries;
      }
    };
    await Promise.all(Array.from({ length: Math.min(input.concurrency, Math.max(parts.length, 1)) }, worker));
    progress.done();
    await handle.close();
    const verifiedBy = await verify(temporary, head, input.candidate.key);
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
    throw error;
  }
}

async function fetchPart(
  input: FetchInput,
  handle: import('node:fs/promises').FileHandle,
  part: { start: number; end: number },
  progress: (bytes: number) => void,
): Promise<number> {
  const { attempts, baseMs } = input.retry ?? { attempts: 6, baseMs: 250 };
  for (let attempt = 1; ; attempt++) {
    let written = 0;
    try {
      const body = await input.store.getRange(input.candidate.key, part.start, part.end, input.signal);
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (part.start + written + chunk.length > part.end + 1)
          throw new Error('the server sent more bytes than the range asked for');
        await handle.write(chunk, 0, chunk.length, part.start + written);
        written += chunk.length;
        progress(chunk.length);
      }
      if (written !== part.end - part.start + 1)
        throw Object.assign(
          new Error(`short read: ${written} of ${part.end - part.start + 1} bytes (Premature close)`),
          { code: 'ECONNRESET' },
        );
      return attempt - 1;
    } catch (error) {
      progress(-written);
      if (input.signal.aborted) throw new AbortedError('download stopped', { cause: error });
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
async function verify(
  path: string,
  head: Awaited<ReturnType<ObjectStore['head']>>,
  key: string,
): Promise<FetchResult['verifiedBy']> {
  const { size } = await stat(path);
  if (size !== head.bytes)
    throw new BadBackupError(`${key}: downloaded ${size} bytes, the object has ${head.bytes}`);
  const expectedHex =
    head.metadata.sha256?.toLowerCase() ??
    (head.checksumSha256 ? Buffer.from(head.checksumSha256, 'base64').toString('hex') : undefined);
  const md5 = /^[0-9a-f]{32}$/.test(head.etag) ? head.etag : undefined;
  if (!expectedHex && !md5) return 'size';
  const sha = createHash('sha256');
  const md = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    if (expectedHex) sha.update(chunk as Buffer);
    else md.update(chunk as Buffer);
  }
  if (expectedHex) {
    const actual = sha.digest('hex');
    if (actual !== expectedHex) {
      throw new BadBackupError(
        `${key}: SHA-256 mismatch: the object says ${expectedHex}, the download is ${actual}`,
        {
          hint: 'the backup is corrupt in the store or was changed while downloading; nothing was restored',
        },
      );
    }
    return 'sha256';
  }
  const actual = md.digest('hex');
  if (actual !== md5)
    throw new BadBackupError(`${key}: MD5 (ETag) mismatch: expected ${md5}, got ${actual}`, {
      hint: 'nothing was restored',
    });
  return 'etag-md5';
}

function progressReporter(log: Logger, total: number): { add: (bytes: number) => void; done: () => void } {
  const started = performance.now();
  let done = 0;
  let lastLog = started;
  const tty = process.stderr.isTTY === true;
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
      const now = performance.now();
      if (tty && now - lastLog > 200) {
        const p = line();
        const bar = '█'.repeat(Math.floor(p.percent / 4)).padEnd(25, '░');
        process.stderr.write(
          `\r  download ${bar} ${p.percent}% ${p.mib}/${mib(total)} MiB ${p.rate} ETA ${p.eta}   `,
        );
        lastLog = now;
      } else if (!tty && now - lastLog > 5000) {
        log.info(line(), 'downloading');
        lastLog = now;
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
