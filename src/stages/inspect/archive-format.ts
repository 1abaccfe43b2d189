// Tells a backup's format from its first bytes, not its name.
import { open } from 'node:fs/promises';

export type ArchiveFormat = 'custom' | 'tar' | 'plain' | 'plain-gzip' | 'unknown';

/** Reads the first 512 bytes: PGDMP → custom, ustar at 257 → tar, 1f8b → gzip, text → plain SQL. */
export async function detectArchiveFormat(path: string): Promise<ArchiveFormat> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buffer, 0, 512, 0);
    return formatFromHeader(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/** Pure part of detectArchiveFormat. */
export function formatFromHeader(header: Buffer): ArchiveFormat {
  if (header.subarray(0, 5).toString('latin1') === 'PGDMP') return 'custom';
  if (header.length >= 262 && header.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  if (header[0] === 0x1f && header[1] === 0x8b) return 'plain-gzip';
  const text = header.toString('utf8');
  if (/^(--|SET |CREATE |\\connect|BEGIN)/m.test(text)) return 'plain';
  return 'unknown';
}
