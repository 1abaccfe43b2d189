// Reading a backup file as a stream of its content: decompressed when it is gzipped, with read
// and decompression errors surfacing on the one stream the caller iterates.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BadBackupError } from '../errors.js';

/** The content of `path`, gunzipped when `gzip`. */
export function openBackup(path: string, gzip: boolean): Readable {
  const file = createReadStream(path);
  if (!gzip) return file;
  const gunzip = createGunzip();
  file.on('error', (error) => gunzip.destroy(error));
  // A reader that stops early (destroys the stream, or breaks out of its loop) closes the file too.
  gunzip.on('close', () => file.destroy());
  return file.pipe(gunzip);
}

/** Up to the first `bytes` bytes of the content (fewer when it is shorter). */
export async function readStart(path: string, gzip: boolean, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const stream = openBackup(path, gzip);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) break;
    }
  } catch (error) {
    throw new BadBackupError(
      `${path} ${gzip ? 'is a corrupt gzip file' : 'could not be read'}: ${(error as Error).message}`,
      { hint: 'the file is truncated or damaged: check the backup job, or point source at an older backup' },
    );
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}
