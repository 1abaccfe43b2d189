// How many large objects an archive holds. Up to PostgreSQL 16 pg_dump writes one BLOB entry per
// large object; from 17 one BLOB METADATA entry per group of up to 1,000, tagged with the group's
// first and last OID ("16391..16393", not a count: OIDs have gaps). Counting only BLOB entries
// found none in a pg_dump 17 archive, and the large objects passed the PII gate unseen.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgTool } from '../infra/pg/pg-bin.js';
import { runTool } from '../infra/process/run-tool.js';
import type { TocEntry } from './toc.js';

/** The large objects in `entries`: BLOB / LARGE OBJECT entries, and the lo_create calls of BLOB METADATA groups. */
export async function largeObjectTotal(
  archive: string,
  entries: readonly TocEntry[],
  signal?: AbortSignal,
): Promise<number> {
  const single = entries.filter((entry) => entry.type === 'BLOB' || entry.type === 'LARGE OBJECT').length;
  const groups = entries.filter((entry) => entry.type === 'BLOB METADATA');
  if (groups.length === 0) return single;
  const dir = await mkdtemp(join(tmpdir(), 'staging-refresh-lo-'));
  try {
    const list = join(dir, 'blob-metadata.list');
    await writeFile(list, `${groups.map((entry) => entry.line).join('\n')}\n`);
    const script = await runTool({
      file: pgTool('pg_restore'),
      args: [`--use-list=${list}`, '--file=-', archive],
      ...(signal && { signal }),
    });
    return single + (script.stdout.match(/\bpg_catalog\.lo_create\(/g)?.length ?? 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
