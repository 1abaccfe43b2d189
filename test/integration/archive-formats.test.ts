// Every backup format pg_dump writes, restored end to end into live staging with masking in the
// stream: custom, tar, directory (uploaded as .tar and .tar.gz) and plain SQL (.sql, .sql.gz).
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { create as createTar } from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClientToolsError } from '../../src/errors.js';
import { ident } from '../../src/infra/pg/connection.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { inspectArchive } from '../../src/stages/inspect/inspect.js';
import {
  cluster,
  databasesLike,
  makeDumps,
  quiet,
  sql,
  tempDir,
  uniqueDb,
  writeTestConfig,
} from '../harness/pg-test-env.js';

// A function body holding a line that looks like a COPY header: only the parser can tell.
const PRODUCTION = `
  CREATE ROLE prod_app_owner_formats;
  CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, note text);
  CREATE TABLE orders (id serial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users (id), total numeric(10,2));
  CREATE INDEX orders_user_idx ON orders (user_id);
  ALTER TABLE users OWNER TO prod_app_owner_formats;
  GRANT SELECT ON orders TO prod_app_owner_formats;
  CREATE FUNCTION tricky() RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN 'ok';
COPY public.users (id) FROM stdin;
END;
$fn$;
  INSERT INTO users SELECT g, 'person' || g || '@real-mail.example', E'tab\\there, newline\\nthere, backslash \\\\ and ünïcode ' || g
    FROM generate_series(1, 2000) g;
  INSERT INTO orders (user_id, total) SELECT 1 + g % 2000, g FROM generate_series(1, 5000) g;`;

// note is free text the test compares byte for byte: kept deliberately
const RULES = {
  secret: 'formats-secret',
  keep: ['public.users.note'],
  tables: { 'public.users': { email: 'email' } },
};

type Case = { file: string; format: string; compression?: string };
const CASES: Case[] = [
  { file: 'prod.dump', format: 'custom' },
  { file: 'prod-ft.tar', format: 'tar' },
  { file: 'prod-dir.tar', format: 'directory' },
  { file: 'prod-dir.tar.gz', format: 'directory', compression: 'gzip' },
  { file: 'prod.sql', format: 'plain' },
  { file: 'prod.sql.gz', format: 'plain', compression: 'gzip' },
];

async function gzip(from: string, to: string): Promise<void> {
  await pipeline(createReadStream(from), createGzip(), createWriteStream(to));
}

describe('backup formats', () => {
  let dumps: string;
  let expectedNote: string;

  beforeAll(async () => {
    dumps = await tempDir('formats');
    try {
      await makeDumps(
        dumps,
        PRODUCTION,
        { 'prod.dump': 'c', 'prod-ft.tar': 't', dir: 'd', 'prod.sql': 'p' },
        async (source) => {
          expectedNote = (await sql<{ note: string }>(source, 'SELECT note FROM users WHERE id = 17'))[0]!
            .note;
        },
      );
    } finally {
      await sql('postgres', 'DROP ROLE prod_app_owner_formats');
    }
    await createTar({ file: join(dumps, 'prod-dir.tar'), cwd: join(dumps, 'dir') }, ['.']);
    await gzip(join(dumps, 'prod-dir.tar'), join(dumps, 'prod-dir.tar.gz'));
    await gzip(join(dumps, 'prod.sql'), join(dumps, 'prod.sql.gz'));
    // The plain dump really does carry what a restore must leave out.
    const plain = await readFile(join(dumps, 'prod.sql'), 'utf8');
    expect(plain).toContain('OWNER TO prod_app_owner_formats');
    expect(plain).toContain('GRANT SELECT ON TABLE public.orders TO prod_app_owner_formats');
  });

  it.each(CASES)(
    '$file: restored, masked in the stream, swapped in',
    async ({ file, format, compression }) => {
      const dir = await tempDir('format-run');
      const live = uniqueDb('formats');
      const { config } = await writeTestConfig(dir, live, {
        source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
        anonymize: RULES,
      });
      await copyFile(join(dumps, file), join(dir, 'backups', file));
      const record = await runRefresh(config, quiet);
      expect(record.error).toBeUndefined();
      expect(record.outcome).toBe('succeeded');
      expect(record.backup?.format).toBe(format);
      expect(record.backup?.compression).toBe(compression);

      const [counts] = await sql<{
        users: string;
        orders: string;
        masked: string;
        fn: string;
        owner: string;
      }>(
        live,
        `SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM orders) AS orders,
              (SELECT count(*) FROM users WHERE email LIKE '%@example.invalid') AS masked,
              tricky() AS fn, (SELECT tableowner FROM pg_tables WHERE tablename = 'users') AS owner`,
      );
      expect(counts).toEqual({
        users: '2000',
        orders: '5000',
        masked: '2000',
        fn: 'ok',
        owner: cluster().user,
      });
      const [note] = await sql<{ note: string }>(live, 'SELECT note FROM users WHERE id = 17');
      expect(note?.note).toBe(expectedNote);
      // post-data: the index, the foreign key and the sequence position came along
      const [post] = await sql<{ idx: boolean; fk: boolean; next: string }>(
        live,
        `SELECT to_regclass('orders_user_idx') IS NOT NULL AS idx,
              EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND conrelid = 'orders'::regclass) AS fk,
              nextval('orders_id_seq') AS next`,
      );
      expect(post).toEqual({ idx: true, fk: true, next: '5001' });
      expect(record.anonymize?.tables).toEqual([
        expect.objectContaining({ name: 'public.users', rows: 2000 }),
      ]);
      expect(record.verify.checks.find((c) => c.name.startsWith('no-leak'))?.status).toBe('passed');
      // what was unpacked for the restore is gone, with the rest of the run's own directory
      const work = await readdir(join(dir, 'work'));
      expect(work).not.toContain('unpacked');
      expect(work).not.toContain('runs');
      expect(await databasesLike(`${live}%`)).toEqual([live]);
    },
  );

  it('a truncated .sql.gz: exit 65 naming the file, live staging untouched', async () => {
    const dir = await tempDir('format-bad');
    const live = uniqueDb('formats_bad');
    await sql('postgres', `CREATE DATABASE ${ident(live)}`);
    await sql(live, 'CREATE TABLE marker (id int); INSERT INTO marker VALUES (42)');
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', '*.sql.gz') }, maxAge: '8d' },
      anonymize: RULES,
    });
    const bad = join(dir, 'backups', 'prod.sql.gz');
    await copyFile(join(dumps, 'prod.sql.gz'), bad);
    await truncate(bad, Math.floor((await stat(bad)).size * 0.6));
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(65);
    expect(record.error?.message).toContain('prod.sql.gz');
    expect(record.error?.message).toMatch(/corrupt or truncated gzip/);
    expect(await sql(live, 'SELECT id FROM marker')).toEqual([{ id: 42 }]);
    expect(await databasesLike(`${live}%`)).toEqual([live]);
  });

  it('plain SQL with a PII column and no rule: exit 78 before a single row is restored', async () => {
    const dir = await tempDir('format-gate');
    const live = uniqueDb('formats_gate');
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', '*.sql') }, maxAge: '8d' },
      anonymize: { secret: 'x', unknownPii: 'fail' },
    });
    await copyFile(join(dumps, 'prod.sql'), join(dir, 'backups', 'prod.sql'));
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(78);
    expect(record.error?.message).toContain('look like PII');
    expect(record.error?.message).toContain('public.users.email');
    expect(await databasesLike(`${live}%`)).toEqual([]);
  });

  it('an archive from a newer pg_dump in a format the local pg_restore still reads: exit 69, live staging untouched', async () => {
    // The header's last string is pg_dump's own version: its major made 99 (or 999…), same length.
    const dir = await tempDir('format-newer');
    const dumpVersion = (
      await inspectArchive({ kind: 'pg_restore', path: join(dumps, 'prod.dump'), format: 'custom' })
    ).toc.dumpVersion as string;
    const patched = await readFile(join(dumps, 'prod.dump'));
    const at = patched.subarray(0, 512).lastIndexOf(dumpVersion, undefined, 'latin1');
    expect(at).toBeGreaterThan(0);
    const major = (/^\d+/.exec(dumpVersion) as RegExpExecArray)[0];
    patched.write('9'.repeat(major.length), at, 'latin1');
    const file = join(dir, 'newer.dump');
    await writeFile(file, patched);
    const error = await inspectArchive({ kind: 'pg_restore', path: file, format: 'custom' }).catch((e) => e);
    expect(error).toBeInstanceOf(ClientToolsError);
    expect(error).toMatchObject({ code: 'pg-restore-too-old', exitCode: 69 });
    expect((error as Error).message).toMatch(/written by pg_dump 9+\.\d+.*newer than the local pg_restore/);

    const live = uniqueDb('formats_newer');
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', '*.dump') }, maxAge: '8d' },
      anonymize: RULES,
    });
    await copyFile(file, join(dir, 'backups', 'newer.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(69);
    expect(record.error?.message).toMatch(/pg_dump 9+/);
    expect(await databasesLike(`${live}%`)).toEqual([]);
  });

  it('a plain dump whose SQL fails on staging: psql stops at the error, which is reported', async () => {
    const dir = await tempDir('format-fail');
    const live = uniqueDb('formats_fail');
    const { config } = await writeTestConfig(dir, live, {
      source: { local: { path: join(dir, 'backups', '*.sql') }, maxAge: '8d' },
      anonymize: RULES,
    });
    const plain = await readFile(join(dumps, 'prod.sql'), 'utf8');
    await writeFile(
      join(dir, 'backups', 'prod.sql'),
      plain.replace(
        'CREATE INDEX orders_user_idx',
        'CREATE INDEX orders_user_idx ON no_such_table (x);\nCREATE INDEX x',
      ),
    );
    const record = await runRefresh(config, quiet);
    expect(record.exitCode).toBe(1);
    expect(record.error?.step).toBe('restore');
    expect(record.error?.message).toContain('relation "no_such_table" does not exist');
    expect(await databasesLike(`${live}%`)).toEqual([]);
  });
});
