// Tells a backup's format from its first bytes, not its name.

export type ArchiveFormat = 'custom' | 'tar' | 'plain' | 'gzip' | 'unknown';

/** PGDMP → custom, ustar at 257 → tar, 1f8b → gzip, text → plain SQL. */
export function formatFromHeader(header: Buffer): ArchiveFormat {
  if (header.subarray(0, 5).toString('latin1') === 'PGDMP') return 'custom';
  if (header.length >= 262 && header.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  if (header[0] === 0x1f && header[1] === 0x8b) return 'gzip';
  const text = header.toString('utf8');
  if (/^(--|SET |CREATE |\\connect|BEGIN)/m.test(text)) return 'plain';
  return 'unknown';
}
