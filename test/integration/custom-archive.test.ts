// The custom-format reader (src/dump/custom-archive.ts) against the real pg_dump and pg_restore:
// for every TABLE DATA entry of archives made with each compression setting, the COPY text it
// reads from the data block is byte for byte what `pg_restore --data-only -t` prints; what it
// cannot check (an archive written to a pipe, without data offsets) is left to pg_restore.
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleArchiveTable } from '../../src/anonymize/value-sampling.js';
import { directTableReads, readCustomArchiveToc, readTableData } from '../../src/dump/custom-archive.js';
import { tableDataArgs } from '../../src/dump/pg-restore-args.js';
import { tableKey } from '../../src/sql/table-key.js';
import { largestFirst } from '../../src/stages/restore/anonymized-data.js';
import { cluster, makeDumps, orderLinesSql, sql, tempDir, uniqueDb } from '../harness/pg-test-env.js';

const SCHEMA = `${orderLinesSql(40000)}
  CREATE TABLE events (id bigint, at date, payload text) PARTITION BY RANGE (at);
  CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  INSERT INTO events SELECT g, DATE '2025-06-01' + (g % 400), md5(g::text) FROM generate_series(1, 20000) g;
  CREATE TABLE empty (id int);
  CREATE TABLE big (id int, filler text);
  INSERT INTO big SELECT g, md5(g::text) || repeat(md5((g * 7)::text), 4) FROM generate_series(1, 60000) g;
`;

/** What pg_restore prints for one table, from its COPY statement on (its header comments dropped). */
async function pgRestoreCopy(
  archive: string,
  schema: string,
  table: string,
  copyStmt: string,
): Promise<Buffer> {
  const { stdout } = await execa(
    cluster().binDir.concat('/pg_restore'),
    tableDataArgs(archive, schema, table),
    {
      encoding: 'buffer',
      maxBuffer: 512 * 1024 * 1024,
    },
  );
  const printed = Buffer.from(stdout as unknown as Uint8Array);
  const at = printed.indexOf(Buffer.from(copyStmt, 'latin1'));
  expect(at).toBeGreaterThan(-1);
  return printed.subarray(at);
}

/** The table's COPY text as the restore reads it (the reads directTableReads plans). */
async function readAll(archive: string, schema: string, table: string): Promise<Buffer> {
  const { reads, refused } = await directTableReads(archive, tableKey);
  const read = reads.get(tableKey(schema, table));
  if (!read) throw new Error(`no direct read of ${schema}.${table}: ${refused}`);
  const parts: Buffer[] = [];
  for await (const chunk of readTableData(archive, read)) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('reading table data from a custom-format archive', () => {
  let dir: string;
  const dumps = {
    default: 'default.dump',
    none: 'z0.dump',
    best: 'z9.dump',
    piped: 'piped.dump',
    directory: 'dir',
    directoryPlain: 'dir-z0',
  };

  beforeAll(async () => {
    const info = cluster();
    dir = await tempDir('custom-archive');
    await makeDumps(dir, SCHEMA, { [dumps.default]: 'c', [dumps.directory]: 'd' }, async (database) => {
      const env = {
        PGHOST: info.host,
        PGPORT: String(info.port),
        PGUSER: info.user,
        PGPASSWORD: info.password,
      };
      const pgDump = join(info.binDir, 'pg_dump');
      await execa(pgDump, ['-Fc', '-Z0', `--file=${join(dir, dumps.none)}`, database], { env });
      await execa(pgDump, ['-Fc', '-Z9', `--file=${join(dir, dumps.best)}`, database], { env });
      await execa(pgDump, ['-Fd', '-Z0', `--file=${join(dir, dumps.directoryPlain)}`, database], { env });
      // Written to a pipe: pg_dump cannot seek back to record where each data block starts.
      const { stdout } = await execa(pgDump, ['-Fc', database], { env, encoding: 'buffer' });
      await writeFile(join(dir, dumps.piped), Buffer.from(stdout as unknown as Uint8Array));
    });
  });

  it.each([
    ['default compression', 'default'],
    ['no compression', 'none'],
    ['compression 9', 'best'],
    ['a directory archive (gzip files)', 'directory'],
    ['a directory archive without compression', 'directoryPlain'],
  ] as const)('gives what pg_restore prints for every table, from %s', async (_, which) => {
    const archive = join(dir, dumps[which]);
    const directory = which === 'directory' || which === 'directoryPlain';
    const toc = await readCustomArchiveToc(
      directory ? join(archive, 'toc.dat') : archive,
      directory ? 'directory' : 'custom',
    );
    if (typeof toc === 'string') throw new Error(toc);
    const { reads } = await directTableReads(archive, tableKey);
    expect(new Set([...reads.values()].map((read) => read.compression))).toEqual(
      new Set([which === 'none' || which === 'directoryPlain' ? 'none' : 'gzip']),
    );
    expect(toc.tables.map((t) => tableKey(t.schema, t.table)).sort()).toEqual(
      [
        tableKey('Sales.EU', 'Order "Lines"'),
        'public.big',
        'public.empty',
        'public.events_2025',
        'public.events_2026',
      ].sort(),
    );
    for (const entry of toc.tables) {
      const mine = await readAll(archive, entry.schema, entry.table);
      const theirs = await pgRestoreCopy(archive, entry.schema, entry.table, entry.copyStmt);
      // pg_restore goes on after the data with its closing comments: the data is a prefix.
      expect(theirs.subarray(0, mine.length).equals(mine), tableKey(entry.schema, entry.table)).toBe(true);
      // …and the data is all of it: the end-of-data marker, then pg_restore's closing comment.
      expect(mine.toString('latin1').endsWith('\\.\n\n\n')).toBe(true);
      expect(theirs.subarray(mine.length).toString()).toMatch(/^--\n-- PostgreSQL database dump complete/);
    }
  });

  it('samples the first rows of a table as pg_restore gives them (the PII gate and the rule checks)', async () => {
    for (const which of ['default', 'directory'] as const) {
      const archive = join(dir, dumps[which]);
      const { reads } = await directTableReads(archive, tableKey);
      for (const [table, columns] of [
        [tableKey('Sales.EU', 'Order "Lines"'), ['note', 'tags', 'doc']],
        ['public.events_2026', ['payload', 'at']],
        ['public.empty', ['id']],
      ] as const) {
        const read = reads.get(table);
        expect(read, table).toBeDefined();
        const direct = await sampleArchiveTable(archive, table, columns, 300, undefined, read);
        const viaPgRestore = await sampleArchiveTable(archive, table, columns, 300);
        expect(direct, `${which} ${table}`).toEqual(viaPgRestore);
        if (table !== 'public.empty') expect(direct.get(columns[0])?.length).toBeGreaterThan(200);
      }
    }
  });

  it("prints the COPY statement's own bytes from a LATIN1 database (a non-ASCII column name)", async () => {
    const info = cluster();
    const database = uniqueDb('latin1');
    await sql(
      'postgres',
      `CREATE DATABASE ${database} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
    );
    try {
      await sql(
        database,
        `CREATE TABLE sizes (id int, "größe" text); INSERT INTO sizes VALUES (1, 'groß'), (2, NULL)`,
      );
      const archive = join(dir, 'latin1.dump');
      const env = {
        PGHOST: info.host,
        PGPORT: String(info.port),
        PGUSER: info.user,
        PGPASSWORD: info.password,
      };
      await execa(join(info.binDir, 'pg_dump'), ['-Fc', `--file=${archive}`, database], { env });
      const mine = await readAll(archive, 'public', 'sizes');
      expect(mine.includes(Buffer.from('gr\xf6\xdfe', 'latin1'))).toBe(true); // the header, in LATIN1
      const toc = await readCustomArchiveToc(archive);
      if (typeof toc === 'string') throw new Error(toc);
      const theirs = await pgRestoreCopy(archive, 'public', 'sizes', toc.tables[0]?.copyStmt ?? '');
      expect(theirs.subarray(0, mine.length).equals(mine)).toBe(true);
    } finally {
      await sql('postgres', `DROP DATABASE ${database}`);
    }
  });

  it.each([
    ['no compression', 'none'],
    ['a directory archive without compression', 'directoryPlain'],
    ['default compression', 'default'],
    ['a directory archive (gzip files)', 'directory'],
  ] as const)(
    'sizes each table as the archive stores it, and the streams start with the biggest, from %s',
    async (_, which) => {
      const archive = join(dir, dumps[which]);
      const { sizes } = await directTableReads(archive, tableKey);
      const lines = tableKey('Sales.EU', 'Order "Lines"');
      const names = [lines, 'public.big', 'public.empty', 'public.events_2025', 'public.events_2026'];
      expect([...sizes.keys()].sort()).toEqual([...names].sort());
      // Uncompressed, a table's size is its COPY text and its framing: a directory archive's file
      // is the text; a custom archive's block gives each row a chunk of its own, behind its
      // length (5 bytes).
      if (which === 'none' || which === 'directoryPlain')
        for (const name of names) {
          const [schema, table] = name === lines ? ['Sales.EU', 'Order "Lines"'] : ['public', name.slice(7)];
          const text = await readAll(archive, schema, table);
          const data = text.subarray(text.indexOf(0x0a) + 1);
          const rowCount = data.filter((byte) => byte === 0x0a).length;
          const framing = which === 'none' ? 5 * rowCount + 64 : 0;
          expect(sizes.get(name), name).toBeGreaterThanOrEqual(data.length);
          expect(sizes.get(name), name).toBeLessThanOrEqual(data.length + framing);
        }
      // Listed as a config lists them, with a table the archive has no data for: the biggest table
      // (~10 MB of text) first, the empty one and the one of unknown size last; uncompressed, every
      // table by its text's length.
      const order = largestFirst(
        [
          'public.nothing',
          'public.empty',
          'public.events_2025',
          lines,
          'public.big',
          'public.events_2026',
        ].map((name) => [name, undefined] as [string, undefined]),
        sizes,
      ).map(([name]) => name);
      expect(order[0]).toBe('public.big');
      expect(order.slice(-2)).toEqual(['public.empty', 'public.nothing']);
      if (which === 'none' || which === 'directoryPlain')
        expect(order.slice(1, 4)).toEqual([lines, 'public.events_2025', 'public.events_2026']);
    },
  );

  it("ends a table's size where the large objects' block begins, not at the file's end", async () => {
    // pg_dump writes the large objects' data after the tables' (uncompressed here, ~1 MB): the
    // table whose block comes last ends where theirs begins.
    const loDir = await tempDir('custom-archive-lo');
    await makeDumps(
      loDir,
      `CREATE TABLE a (id int, note text);
       INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
       CREATE TABLE z (id int, note text);
       INSERT INTO z SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 3000) g;
       SELECT lo_from_bytea(0, decode(repeat('ab', 1000000), 'hex'));
       SELECT lo_from_bytea(0, convert_to('a small one', 'UTF8'));`,
      { 'lo.dump': 'c' },
      undefined,
      ['-Z0'],
    );
    const archive = join(loDir, 'lo.dump');
    const toc = await readCustomArchiveToc(archive);
    if (typeof toc === 'string') throw new Error(toc);
    const fileSize = (await readFile(archive)).length;
    // What the test needs of the archive: every table's block starts at least the large
    // object's megabyte before the file ends (so the last one is followed by it).
    expect(toc.tables).toHaveLength(2);
    expect(Math.max(...toc.tables.map((t) => t.offset ?? fileSize))).toBeLessThan(fileSize - 1_000_000);
    const { sizes } = await directTableReads(archive, tableKey);
    for (const table of ['a', 'z']) {
      const text = await readAll(archive, 'public', table);
      const data = text.subarray(text.indexOf(0x0a) + 1);
      const rowCount = data.filter((byte) => byte === 0x0a).length;
      expect(sizes.get(`public.${table}`), table).toBeGreaterThanOrEqual(data.length);
      expect(sizes.get(`public.${table}`), table).toBeLessThanOrEqual(data.length + 5 * rowCount + 64);
    }
  });

  it('leaves an archive written to a pipe (no data offsets) to pg_restore', async () => {
    const reads = await directTableReads(join(dir, dumps.piped), tableKey);
    expect(reads.reads.size).toBe(0);
    // Nor any table's size: the masked streams start in the config's order.
    expect(reads.sizes.size).toBe(0);
    const seekable = await directTableReads(join(dir, dumps.default), tableKey);
    expect([...seekable.reads.keys()]).toContain('public.big');
  });

  it('refuses archive versions it was not written for, and a format other than the one it expects', async () => {
    const copy = join(dir, 'future.dump');
    const bytes = await readFile(join(dir, dumps.default));
    bytes[6] = 17; // 1.17
    await writeFile(copy, bytes);
    expect(await readCustomArchiveToc(copy)).toMatch(/archive version 1\.17\.0/);
    // A damaged string length (the database name's, 2 GiB) in a 200 MB file: the reader stops at
    // 64 MiB of table of contents instead of reading the backup into memory.
    const damaged = join(dir, 'huge-toc.dump');
    const head = Buffer.from(bytes.subarray(0, 64));
    head[6] = 14;
    head.writeUInt8(0, 51); // sign
    head.writeUInt32LE(0x7fffffff, 52);
    await writeFile(damaged, head);
    await truncate(damaged, 200 * 1024 * 1024);
    expect(await readCustomArchiveToc(damaged)).toMatch(/a table of contents over 64 MiB/);
    expect((await directTableReads(join(dir, dumps.directory, 'toc.dat'), tableKey)).refused).toMatch(
      /not the custom format/,
    );
    const saved = process.env.STAGING_REFRESH_ARCHIVE_READER;
    process.env.STAGING_REFRESH_ARCHIVE_READER = 'pg_restore';
    try {
      expect((await directTableReads(join(dir, dumps.default), tableKey)).refused).toMatch(
        /STAGING_REFRESH_ARCHIVE_READER/,
      );
    } finally {
      if (saved === undefined) delete process.env.STAGING_REFRESH_ARCHIVE_READER;
      else process.env.STAGING_REFRESH_ARCHIVE_READER = saved;
    }
  });

  it('says what is wrong with a damaged or truncated data block', async () => {
    const archive = join(dir, dumps.default);
    const toc = await readCustomArchiveToc(archive);
    if (typeof toc === 'string') throw new Error(toc);
    const entry = toc.tables.find((t) => t.table === 'big');
    if (entry?.offset === undefined) throw new Error('no big');
    const { offset } = entry;
    const bytes = await readFile(archive);
    const damaged = join(dir, 'damaged.dump');
    const garbled = Buffer.from(bytes);
    for (let i = offset + 200; i < offset + 264; i++) garbled[i] = (garbled[i] ?? 0) ^ 0x5a;
    await writeFile(damaged, garbled);
    await expect(readAll(damaged, 'public', 'big')).rejects.toThrow(/does not inflate|data chunk of length/);

    const truncated = join(dir, 'truncated.dump');
    await writeFile(truncated, bytes.subarray(0, offset + 5000));
    await expect(readAll(truncated, 'public', 'big')).rejects.toThrow(/ends inside a data block/);

    // A TOC offset pointing at another entry's block: refused by the block's own header.
    const wrong = { ...entry, offset: toc.tables.find((t) => t.table === 'events_2025')?.offset ?? 0 };
    const reading = (async () => {
      for await (const _ of readTableData(archive, { ...toc, ...wrong }));
    })();
    await expect(reading).rejects.toThrow(/is not entry \d+'s/);
  });
});
