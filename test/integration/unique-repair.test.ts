// A unique masked column streamed with a ledger on disk and re-keyed after the load
// (unique-repair.ts): the rows end with exactly the values the in-memory re-keying of earlier
// versions wrote in the stream (values must join across versions), the unique indexes of
// post-data build on them, and no ledger file is left behind.
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import type { ColumnRule } from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { tableDataArgs } from '../../src/dump/pg-restore-args.js';
import { LocalIoError } from '../../src/errors.js';
import { parseCopyHeader } from '../../src/format/copy-text.js';
import { tableKey } from '../../src/sql/table-key.js';
import { threadBudget } from '../../src/stages/restore/block-masker.js';
import { type StreamTableInput, streamTable } from '../../src/stages/restore/stream-table.js';
import {
  cluster,
  clusterEnv,
  makeDump,
  makeDumps,
  preDataTarget,
  sql,
  tempDir,
} from '../harness/pg-test-env.js';

// Addresses in other capitals fold onto one masked address; a 4-hex-digit hash of 20k codes
// collides hundreds of times, and re-keyed codes take outputs later rows would have had. Rows
// 20001.. are a third spelling of earlier addresses, with the same values but for id and code.
const PRODUCTION = `
  CREATE SCHEMA "Sales.EU";
  CREATE DOMAIN short_code AS text CHECK (length(VALUE) <= 40);
  CREATE TABLE "Sales.EU"."Cust ""omers""" (
    id int PRIMARY KEY,
    email text UNIQUE,
    code short_code UNIQUE,
    tags text[],
    doc jsonb,
    note text,
    mailbox text GENERATED ALWAYS AS (split_part(email, '@', 1)) STORED
  );
  INSERT INTO "Sales.EU"."Cust ""omers""" (id, email, code, tags, doc, note)
    SELECT g,
           CASE WHEN g % 5 = 0 THEN upper('person' || (g / 5) || '@real-mail.example')
                ELSE 'person' || g || '@real-mail.example' END,
           'C-' || g,
           ARRAY['a' || (g % 3), 'b,"c"'],
           jsonb_build_object('n', g % 7),
           'tab' || chr(9) || 'ü ' || (g % 11)
      FROM generate_series(1, 20000) g;
  INSERT INTO "Sales.EU"."Cust ""omers""" (id, email, code, tags, doc, note)
    SELECT 20000 + g, 'Person' || g || '@Real-Mail.example', 'c-' || g, ARRAY['a1', 'b,"c"'],
           '{"n": 1}', 'same'
      FROM generate_series(1, 300) g;
  INSERT INTO "Sales.EU"."Cust ""omers""" (id, email, code, note) VALUES (30001, NULL, NULL, 'nulls');`;

const RULES = { email: { email: {} }, code: { hash: { length: 4 } } } as const;
const TYPES = new Map([
  ['email', 'text'],
  ['code', 'short_code'],
]);
const SECRET = 'repair-secret';
const DOMAIN = 'example.invalid';

type Masked = Map<number, Record<string, string | null>>;

/**
 * A table's rows, by id, as the in-memory re-keying masks them (every ruled column kept unique;
 * the archive's COPY text through the transform, no ledger), and how many rows that re-keying
 * changed against masking without it: per column, and in all (a row changed in two counts once).
 */
async function maskedInMemory(
  dump: string,
  schema: string,
  table: string,
  rules: Record<string, ColumnRule>,
  types: Map<string, string>,
): Promise<{ rekeyed: Masked; changed: Record<string, number>; changedRows: number }> {
  const info = cluster();
  const { stdout } = await execa(join(info.binDir, 'pg_restore'), tableDataArgs(dump, schema, table), {
    env: clusterEnv(),
    maxBuffer: 1024 * 1024 * 1024,
  });
  const lines = stdout.split('\n');
  const headerAt = lines.findIndex((line) => line.startsWith('COPY '));
  const columns = parseCopyHeader(lines[headerAt] as string)?.columns ?? [];
  const ruled = Object.keys(rules);
  const mask = (unique: Set<string>): Masked => {
    const transform = compileTableTransform(
      tableKey(schema, table),
      columns,
      rules,
      types,
      KeyedPrf.of(SECRET),
      DOMAIN,
      unique,
    );
    const out: Masked = new Map();
    for (const line of lines.slice(headerAt + 1)) {
      if (line === '\\.') break;
      const fields = transform.line(line).split('\t');
      const field = (name: string) => {
        const value = fields[columns.indexOf(name)] as string;
        return value === '\\N' ? null : value;
      };
      out.set(Number(field('id')), Object.fromEntries(ruled.map((column) => [column, field(column)])));
    }
    return out;
  };
  const rekeyed = mask(new Set(ruled));
  const plain = mask(new Set());
  const changed: Record<string, number> = Object.fromEntries(ruled.map((column) => [column, 0]));
  let changedRows = 0;
  for (const [id, value] of rekeyed) {
    const differ = ruled.filter((column) => value[column] !== plain.get(id)?.[column]);
    for (const column of differ) changed[column] = (changed[column] ?? 0) + 1;
    if (differ.length > 0) changedRows++;
  }
  return { rekeyed, changed, changedRows };
}

/** A stream of a table of the dump with its rules, keyed with the tests' secret. */
const streamInput = (
  input: Omit<StreamTableInput, 'hasData' | 'secret' | 'domain' | 'signal'>,
): StreamTableInput => ({
  hasData: true,
  secret: SECRET,
  domain: DOMAIN,
  signal: new AbortController().signal,
  ...input,
});

describe('a unique masked column re-keyed after the load', () => {
  let dump: string;
  let scratch: string;
  beforeAll(async () => {
    cluster();
    const dir = await tempDir('unique-repair');
    scratch = await tempDir('unique-repair-scratch');
    dump = await makeDump(join(dir, 'prod.dump'), PRODUCTION);
  });

  const target = async (label: string): Promise<StreamTableInput> =>
    streamInput({
      archive: dump,
      target: await preDataTarget(dump, label),
      schema: 'Sales.EU',
      table: 'Cust "omers"',
      rules: RULES,
      types: TYPES,
      unique: ['email', 'code'],
      scratch,
    });

  it('writes the values the in-memory re-keying wrote, and the unique indexes build on them', async () => {
    const input = await target('repair');
    const result = await streamTable(input);
    expect(result.rows).toBe(20301);
    const rows = await sql<{ id: number; email: string | null; code: string | null; mailbox: string | null }>(
      input.target.database,
      `SELECT id, email, code::text AS code, mailbox FROM "Sales.EU"."Cust ""omers""" ORDER BY id`,
    );
    // What the in-memory re-keying wrote: the archive's COPY text through the transform without a ledger.
    const {
      rekeyed: expected,
      changed,
      changedRows,
    } = await maskedInMemory(dump, 'Sales.EU', 'Cust "omers"', RULES, TYPES);
    // The case: many rows re-keyed in both columns (else this would not test the repair).
    expect(changed.email).toBeGreaterThan(3000);
    expect(changed.code).toBeGreaterThan(500);
    expect(rows.length).toBe(expected.size);
    // Every row changed after the load, counted once (some changed in both columns).
    expect(result.rekeyed).toBe(changedRows);
    expect(new Set(rows.map((row) => row.email)).size).toBe(rows.length);
    expect(rows.map((row) => [row.id, row.email, row.code])).toEqual(
      [...expected].sort(([a], [b]) => a - b).map(([id, value]) => [id, value.email, value.code]),
    );
    const codes = rows.map((row) => row.code).filter((code) => code !== null);
    expect(new Set(codes).size).toBe(codes.length);
    // The generated column follows the re-keyed address.
    expect(rows.every((row) => row.mailbox === (row.email === null ? null : row.email.split('@')[0]))).toBe(
      true,
    );
    expect(expected.get(30001)).toEqual({ email: null, code: null });
    const info = cluster();
    await execa(
      join(info.binDir, 'pg_restore'),
      ['--section=post-data', '--no-owner', '--exit-on-error', `--dbname=${input.target.database}`, dump],
      { env: clusterEnv() },
    );
    const indexes = await sql<{ count: string }>(
      input.target.database,
      `SELECT count(*) FROM pg_index WHERE indrelid = '"Sales.EU"."Cust ""omers"""'::regclass AND indisunique`,
    );
    expect(Number(indexes[0]?.count)).toBe(3);
    expect(await readdir(scratch)).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'a scratch directory with no room for the ledger: a clear error naming it, and no row loaded',
    async () => {
      const full = await tempDir('unique-repair-full');
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
      try {
        await writeFile(join(full, 'filler'), Buffer.alloc(64 * 1024)).catch(() => undefined);
        const input = { ...(await target('repair_full')), scratch: full };
        const failure = await streamTable(input).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(LocalIoError);
        expect((failure as Error).message).toMatch(new RegExp(`^no space left in ${full}: ENOSPC`));
        const rows = await sql<{ count: string }>(
          input.target.database,
          `SELECT count(*) FROM "Sales.EU"."Cust ""omers"""`,
        );
        expect(rows[0]?.count).toBe('0');
      } finally {
        await execa('umount', [full]);
      }
    },
  );

  it('keeps a partition loaded through its root unique in memory (the root routes its rows)', async () => {
    const dir = await tempDir('unique-repair-root');
    await makeDumps(
      dir,
      `CREATE TABLE visits (id int, email text, region text) PARTITION BY LIST (region);
       CREATE TABLE visits_eu PARTITION OF visits FOR VALUES IN ('eu');
       CREATE UNIQUE INDEX visits_eu_email ON visits_eu (email);
       INSERT INTO visits SELECT g, CASE WHEN g % 4 = 0 THEN 'P' || (g / 4) || '@X.example'
                                      ELSE 'p' || g || '@x.example' END, 'eu'
         FROM generate_series(1, 2000) g;`,
      { 'root.dump': 'c' },
      undefined,
      ['--load-via-partition-root'],
    );
    const rootDump = join(dir, 'root.dump');
    const target = await preDataTarget(rootDump, 'repair_root');
    const result = await streamTable(
      streamInput({
        archive: rootDump,
        target,
        schema: 'public',
        table: 'visits_eu',
        copyInto: { schema: 'public', table: 'visits' },
        rules: { email: { email: {} } },
        types: new Map([['email', 'text']]),
        unique: ['email'],
        scratch,
      }),
    );
    expect(result.rows).toBe(2000);
    expect(result.rekeyed).toBe(0); // re-keyed in the stream, not after it
    const emails = await sql<{ n: number; distinct: number }>(
      target.database,
      `SELECT count(*)::int AS n, count(DISTINCT email)::int AS distinct FROM visits_eu`,
    );
    // 500 addresses in other capitals fold onto earlier ones: re-keyed, so all 2,000 differ.
    expect(emails).toEqual([{ n: 2000, distinct: 2000 }]);
    expect(await readdir(scratch)).toEqual([]);
  });
});

describe('a unique masked table split across helper threads, re-keyed after the load', () => {
  // ~11.5 MB of COPY text; the table takes helpers after its first MiB (a run's threshold is 32
  // MiB: a helper's start costs ~1 s of CPU). A trigger holds the COPY for 10 s at row 15,000, so
  // the helper started at ~1 MiB is ready (tsx loads it from source here, seconds on a loaded
  // machine) while most of the table is still to mask: those blocks are masked on both threads,
  // each block's keys appended to the ledger in row order. The stream connects over the
  // cluster's Unix socket: over loopback TCP the kernel's buffers (autotuned up to tens of MB)
  // took most of the table while the COPY was held, and the helper got ~6k rows on a CI run. Every 50th address is an earlier row's
  // in capitals (2,352 clashes: not the 48 whose earlier row is in capitals too); a 6-hex-digit
  // hash of 120k codes clashes ~430 times.
  const ROWS = 120_000;
  const SPLIT_RULES = { email: { email: {} }, code: { hash: { length: 6 } } } as const;
  const SPLIT_TYPES = new Map([
    ['email', 'text'],
    ['code', 'text'],
  ]);

  it('writes the values the in-memory re-keying wrote, whichever thread masked each row', async () => {
    cluster();
    const dir = await tempDir('unique-repair-split');
    const scratch = await tempDir('unique-repair-split-scratch');
    const dump = await makeDump(
      join(dir, 'big.dump'),
      `CREATE TABLE big (id int PRIMARY KEY, email text UNIQUE, code text UNIQUE, filler text);
       INSERT INTO big
         SELECT g,
                CASE WHEN g % 50 = 0 THEN upper('member' || (g / 50) || '@real-mail.example')
                     ELSE 'member' || g || '@real-mail.example' END,
                'K-' || g,
                repeat('x', 50)
           FROM generate_series(1, ${ROWS}) g;`,
    );
    const target = { ...(await preDataTarget(dump, 'repair_split')), host: cluster().dir };
    await sql(
      target.database,
      `CREATE FUNCTION hold_once() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.id = 15000 THEN PERFORM pg_sleep(10); END IF; RETURN NEW; END $$;
       CREATE TRIGGER hold BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION hold_once();`,
    );
    const result = await streamTable(
      streamInput({
        archive: dump,
        target,
        schema: 'public',
        table: 'big',
        rules: SPLIT_RULES,
        types: SPLIT_TYPES,
        unique: ['email', 'code'],
        scratch,
        // the stream's thread and up to two helpers, from the table's first MiB
        threads: threadBudget(3),
        helpersAfterBytes: 1024 * 1024,
      }),
    );
    expect(result.rows).toBe(ROWS);
    // The case: a share of the rows masked on a helper (else this would not test the split).
    expect(result.helpers).toBeGreaterThanOrEqual(1);
    expect(result.helperRows).toBeGreaterThan(10_000);
    const {
      rekeyed: expected,
      changed,
      changedRows,
    } = await maskedInMemory(dump, 'public', 'big', SPLIT_RULES, SPLIT_TYPES);
    expect(changed.email).toBe(2352);
    expect(changed.code).toBeGreaterThan(100);
    expect(result.rekeyed).toBe(changedRows);
    const rows = await sql<{ id: number; email: string; code: string }>(
      target.database,
      'SELECT id, email, code FROM big ORDER BY id',
    );
    expect(rows.length).toBe(ROWS);
    const differing = rows.filter(
      (row) => row.email !== expected.get(row.id)?.email || row.code !== expected.get(row.id)?.code,
    );
    expect(differing.slice(0, 3)).toEqual([]);
    expect(await readdir(scratch)).toEqual([]);
    await sql('postgres', `DROP DATABASE ${target.database} WITH (FORCE)`);
  }, 120_000);
});
