// PostgreSQL 17's client tools (scripts/lib/pg17.ts) beside the test cluster's PostgreSQL 15,
// as in the image, which installs several client majors: pg_restore 17 begins every restore with
// SET transaction_timeout, which a 15 server does not have, so the run must restore with the
// server's own major — and say so in inspect, before creating anything, when it cannot. And what
// pg_dump 17 writes (archive format 1.16), the archive reader reads as pg_restore 17 prints it.
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pg17BinDir } from '../../scripts/lib/pg17.js';
import { runDoctor } from '../../src/commands/doctor.js';
import { directTableReads, readTableData } from '../../src/dump/custom-archive.js';
import { largeObjectTotal } from '../../src/dump/large-object-count.js';
import { tableDataArgs } from '../../src/dump/pg-restore-args.js';
import { parseToc } from '../../src/dump/toc.js';
import { withPgBinDir } from '../../src/infra/pg/pg-bin.js';
import { tableKey } from '../../src/sql/table-key.js';
import {
  cluster,
  clusterEnv,
  makeDumps,
  orderLinesSql,
  refreshBackup,
  serverMajor,
  sql,
  tempDir,
  uniqueDb,
  useClientTools,
  writeTestConfig,
} from '../harness/pg-test-env.js';

const PG17 = pg17BinDir();
/** The test cluster's major: these tests put a newer client beside it (CI's second pass runs 17). */
const SERVER_MAJOR = serverMajor();

// The text column is `code`: a `note` is free text to the PII gate.
const SETUP = `${orderLinesSql(20000, 'code')}
  CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text);
  INSERT INTO users SELECT g, 'user' || g || '@example.com', 'Name ' || g FROM generate_series(1, 500) g;`;

const ANONYMIZE = {
  secret: 'pg17',
  tables: { 'public.users': { email: 'email', name: { fake: 'person.lastName' } } },
};

/** pg_dump 17's archives of the same database: format letter and compression per file. */
const PG17_DUMPS = {
  'pg17.dump': ['-Fc'],
  'pg17-z0.dump': ['-Fc', '-Z0'],
  'pg17-dir': ['-Fd'],
  'pg17-lz4.dump': ['-Fc', '-Zlz4'],
  'pg17-zstd.dump': ['-Fc', '-Zzstd'],
  'pg17.sql': ['-Fp'],
} as const;

describe.skipIf(!PG17 || SERVER_MAJOR !== 15)(
  'PostgreSQL 17 client tools beside a PostgreSQL 15 staging server',
  () => {
    const pg17 = PG17 as string;
    let dumps: string;
    beforeAll(async () => {
      dumps = await tempDir('pg17-dumps');
      await makeDumps(dumps, SETUP, { 'pg15.dump': 'c' }, async (database) => {
        for (const [file, args] of Object.entries(PG17_DUMPS))
          await execa(join(pg17, 'pg_dump'), [...args, `--file=${join(dumps, file)}`, database], {
            env: clusterEnv(),
          });
      });
    });

    afterEach(() => {
      vi.unstubAllEnvs();
    });

    /** A refresh of `file` from `dumps` with the client tools `tools` names. */
    const refresh = (file: string, tools: { PG_BIN?: string; PG_BIN_DIRS?: string }) =>
      refreshBackup(join(dumps, file), 'pg17', { anonymize: ANONYMIZE }, tools);

    async function databasesOf(live: string): Promise<unknown[]> {
      return sql('postgres', 'SELECT datname FROM pg_database WHERE datname LIKE $1', [`${live}%`]);
    }

    it("restores with the staging server's own major when 15 and 17 are installed (17 is the newest)", async () => {
      const server15 = cluster().binDir;
      const { record, live } = await refresh('pg15.dump', { PG_BIN_DIRS: `${pg17}:${server15}` });
      expect(record.error).toBeUndefined();
      expect(record.outcome).toBe('succeeded');
      expect(record.clientTools).toMatchObject({ dir: server15, reason: "the staging server's major (15)" });
      expect(record.clientTools?.version).toMatch(/^15\./);
      expect(record.clientTools?.installed.map((v) => v.split('.')[0])).toEqual(['17', '15']);
      const [row] = await sql(
        live,
        'SELECT count(*)::int AS n, bool_and(email NOT LIKE $1) AS masked FROM users',
        ['user%'],
      );
      expect(row).toEqual({ n: 500, masked: true });
    });

    it('refuses in inspect a PostgreSQL 17 pg_restore alone, naming the setting and the fix; nothing is created', async () => {
      const { record, live } = await refresh('pg15.dump', { PG_BIN: pg17 });
      expect(record.outcome).toBe('failed');
      expect(record.error?.code).toBe('client-tools-mismatch');
      expect(record.exitCode).toBe(69);
      expect(record.error?.step).toBe('inspect');
      expect(record.error?.message).toMatch(
        /pg_restore 17\.\d+ .* begins every restore with SET transaction_timeout, which the staging server \(PostgreSQL 15\.\d+\) does not have/,
      );
      expect(record.error?.hint).toMatch(/postgresql-client-15/);
      expect(record.backup?.dumpVersion).toMatch(/^15\./);
      expect(await databasesOf(live)).toEqual([]);
    });

    it("doctor names the tools a run would take, and fails when only a newer major than the server's is there", async () => {
      const dir = await tempDir('pg17-doctor');
      const { config } = await writeTestConfig(dir, uniqueDb('pg17_doctor'));
      const clientCheck = async (tools: { PG_BIN?: string; PG_BIN_DIRS?: string }) => {
        useClientTools(tools);
        return (await runDoctor(config)).find((check) => check.name === 'client tools');
      };
      const both = await clientCheck({ PG_BIN_DIRS: `${pg17}:${cluster().binDir}` });
      expect(both?.ok).toBe(true);
      expect(both?.detail).toMatch(
        /^pg_restore 15\.\d+ \(.*\) for PostgreSQL 15\.\d+: the staging server's major \(15\); installed: 17\.\d+, 15\.\d+$/,
      );
      const alone = await clientCheck({ PG_BIN: pg17 });
      expect(alone?.ok).toBe(false);
      expect(alone?.detail).toMatch(
        /sends SET transaction_timeout, which PostgreSQL 15\.\d+ lacks .*install postgresql-client-15/,
      );
    });

    it.each([
      ['a custom archive', 'pg17.dump'],
      ['a plain dump', 'pg17.sql'],
    ])(
      'refuses %s taken by pg_dump 17 of a PostgreSQL 15 production: take it with pg_dump 15',
      async (_, file) => {
        const server15 = cluster().binDir;
        const { record, live } = await refresh(file, { PG_BIN_DIRS: `${pg17}:${server15}` });
        expect(record.error?.code).toBe('client-tools-mismatch');
        expect(record.exitCode).toBe(69);
        expect(record.error?.message).toMatch(/SET transaction_timeout/);
        expect(record.error?.hint).toMatch(
          /taken with pg_dump 17, .* take it with pg_dump 15 \(production's major\)/,
        );
        expect(await databasesOf(live)).toEqual([]);
      },
    );

    it.each([
      ['gzip', 'pg17.dump', 'gzip'],
      ['no compression', 'pg17-z0.dump', 'none'],
      ['a directory archive', 'pg17-dir', 'gzip'],
    ] as const)('reads format 1.16 (%s) as pg_restore 17 prints it', async (_, file, compression) => {
      const archive = join(dumps, file);
      const { reads, refused } = await directTableReads(archive, tableKey);
      expect(refused).toBeUndefined();
      expect([...reads.keys()].sort()).toEqual([tableKey('Sales.EU', 'Order "Lines"'), 'public.users']);
      for (const [schema, table] of [
        ['Sales.EU', 'Order "Lines"'],
        ['public', 'users'],
      ] as const) {
        const read = reads.get(tableKey(schema, table));
        expect(read?.compression).toBe(compression);
        const parts: Buffer[] = [];
        for await (const chunk of readTableData(archive, read as NonNullable<typeof read>)) parts.push(chunk);
        const mine = Buffer.concat(parts);
        const { stdout } = await execa(join(pg17, 'pg_restore'), tableDataArgs(archive, schema, table), {
          encoding: 'buffer',
          maxBuffer: 256 * 1024 * 1024,
        });
        const printed = Buffer.from(stdout as unknown as Uint8Array);
        const theirs = printed.subarray(printed.indexOf(Buffer.from(read?.copyStmt as string, 'latin1')));
        expect(mine.length).toBeGreaterThan(1000);
        expect(theirs.subarray(0, mine.length).equals(mine), tableKey(schema, table)).toBe(true);
        expect(theirs.subarray(mine.length).toString()).toMatch(/^--\n-- PostgreSQL database dump complete/);
      }
    });

    it.each([
      ['lz4', 'pg17-lz4.dump'],
      ['zstd', 'pg17-zstd.dump'],
    ])(
      'leaves a %s archive to pg_restore, saying why, and still reads its COPY statements',
      async (algorithm, file) => {
        const { reads, refused, copies } = await directTableReads(join(dumps, file), tableKey);
        expect(reads.size).toBe(0);
        expect(refused).toBe(`compressed with ${algorithm}`);
        // what each table's data COPYs into, from the table of contents (a root, for a partition)
        expect(copies.get('public.users')?.copyStmt).toMatch(
          /^COPY public\.users \(id, email, name\) FROM stdin;/,
        );
      },
    );

    it("counts the large objects of pg_dump 17's grouped BLOB METADATA entries (1,000 to an entry)", async () => {
      const dir = await tempDir('pg17-lo');
      const file = join(dir, 'lo17.dump');
      await makeDumps(
        dir,
        `CREATE TABLE documents (id int, body oid);
       INSERT INTO documents SELECT g, lo_from_bytea(0, convert_to('secret ' || g, 'UTF8')) FROM generate_series(1, 1500) g;`,
        {},
        async (database) => {
          await execa(join(pg17, 'pg_dump'), ['-Fc', `--file=${file}`, database], { env: clusterEnv() });
          await sql(database, 'SELECT lo_unlink(body) FROM documents');
        },
      );
      const { stdout } = await execa(join(pg17, 'pg_restore'), ['--list', file]);
      const entries = parseToc(stdout).entries;
      expect(entries.filter((entry) => entry.type === 'BLOB METADATA')).toHaveLength(2);
      expect(entries.filter((entry) => entry.type === 'BLOB')).toHaveLength(0);
      expect(await withPgBinDir(pg17, () => largeObjectTotal(file, entries))).toBe(1500);
    });
  },
);
