// Reading migration files from a directory.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { splitTableKey } from '../../../sql/table-key.js';

/** Names in `dir` (files only), sorted by byte order like the tools sort them. */
export async function listFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  const files: string[] = [];
  for (const name of names) if ((await stat(join(dir, name))).isFile()) files.push(name);
  return files.sort(byteOrder);
}

/** Sub-directories of `dir`, sorted. */
export async function listDirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort(byteOrder);
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Reads a text file, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Splits `schema.table` (default schema public; quoted parts as in sql/table-key). */
export function splitQualified(name: string): { schema: string; table: string } {
  return splitTableKey(name);
}
