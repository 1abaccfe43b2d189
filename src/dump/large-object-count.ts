// How many large objects an archive holds. Up to PostgreSQL 16 pg_dump writes one BLOB entry per
// large object; from 17 one BLOB METADATA entry per group of up to 1,000, tagged with the group's
// first and last OID ("16391..16393", not a count: OIDs have gaps). Counting only BLOB entries
// found none in a pg_dump 17 archive, and the large objects passed the PII gate unseen.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { AbortedError, BadBackupError } from '../errors.js';
import { pgTool } from '../infra/pg/pg-bin.js';
import { tail } from '../infra/process/run-tool.js';
import type { TocEntry } from './toc.js';

const CALL = Buffer.from('pg_catalog.lo_create(');

/**
 * The large objects in `entries`: BLOB / LARGE OBJECT entries, and the lo_create calls pg_restore
 * prints for BLOB METADATA groups — counted as they stream (~80 bytes each: millions of large
 * objects are hundreds of MB of script). The list file goes into `dir` (default: the OS's).
 */
export async function largeObjectTotal(
  archive: string,
  entries: readonly TocEntry[],
  signal?: AbortSignal,
  dir?: string,
): Promise<number> {
  const single = entries.filter((entry) => entry.type === 'BLOB' || entry.type === 'LARGE OBJECT').length;
  const groups = entries.filter((entry) => entry.type === 'BLOB METADATA');
  if (groups.length === 0) return single;
  const scratch = await mkdtemp(join(dir ?? tmpdir(), 'large-objects-'));
  try {
    const list = join(scratch, 'blob-metadata.list');
    await writeFile(list, `${groups.map((entry) => entry.line).join('\n')}\n`);
    const child = execa(pgTool('pg_restore'), [`--use-list=${list}`, '--file=-', archive], {
      buffer: { stdout: false, stderr: true },
      stdin: 'ignore',
      reject: false,
      ...(signal && { cancelSignal: signal }),
    });
    let count = 0;
    let carry = Buffer.alloc(0);
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      const text = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      for (let at = text.indexOf(CALL); at !== -1; at = text.indexOf(CALL, at + CALL.length)) count++;
      // A call cut between two chunks is counted in the next: keep less than one call's length.
      carry = Buffer.from(text.subarray(Math.max(0, text.length - (CALL.length - 1))));
    }
    const result = await child;
    if (signal?.aborted) throw new AbortedError("counting the backup's large objects was stopped");
    // The entries were listed, but their script cannot be printed: the archive is damaged there.
    if (result.failed)
      throw new BadBackupError(
        `${archive}: pg_restore could not print its large objects' entries:\n${tail(String(result.stderr ?? ''), 10)}`,
        {
          hint: 'the archive is corrupt or truncated; the live staging database was not touched: check the backup job or use an older backup',
        },
      );
    return single + count;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
