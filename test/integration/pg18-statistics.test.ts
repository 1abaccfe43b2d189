// What only pg_dump 18 writes: with --statistics, each table's, index's and column's optimizer
// statistics (STATISTICS DATA entries; in a plain dump, pg_restore_*_stats calls), whose most common
// values and histogram bounds are production's own values — a masked column's e-mail addresses as
// they are. A run restores none of them (src/anonymize/statistics.ts): the ANALYZE after the
// restore computes staging's from the masked rows. pg_restore 18 cannot restore into 15 (the run
// refuses it in inspect), so these run in CI's pass against a PostgreSQL 17 server — which has no
// pg_restore_*_stats functions either: a statistics entry restored there fails the restore.
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pg18BinDir } from '../../scripts/lib/pg18.js';
import {
  cluster,
  clusterEnv,
  makeDumps,
  orderLinesSql,
  refreshBackup,
  serverMajor,
  sql,
  tempDir,
} from '../harness/pg-test-env.js';

const PG18 = pg18BinDir();
const SERVER_MAJOR = serverMajor();

// A quoted, dotted schema and table among them (orderLinesSql: arrays, jsonb; its text column
// `code`, not free text to the PII gate).
const SETUP = `${orderLinesSql(2000, 'code')}
  CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL UNIQUE, name text);
  INSERT INTO users SELECT g, 'person' || g || '@real.example', 'Realname ' || (g % 20)
    FROM generate_series(1, 2000) g;
  CREATE INDEX users_lower_name ON users (lower(name));
  CREATE TABLE contacts (id int, email text);
  INSERT INTO contacts SELECT g, 'contact' || g || '@real.example' FROM generate_series(1, 500) g;
  ANALYZE users, contacts;`;

const ANONYMIZE = {
  secret: 'pg18',
  tables: {
    'public.users': { email: 'email', name: { fake: 'person.lastName' } },
    // Loads no row, so ANALYZE leaves its statistics as they are: restored, production's would stay.
    'public.contacts': 'truncate',
  },
};

describe.skipIf(!PG18 || SERVER_MAJOR < 17)('a pg_dump 18 backup taken with --statistics', () => {
  const pg18 = PG18 as string;
  let dumps: string;

  beforeAll(async () => {
    dumps = await tempDir('pg18-dumps');
    await makeDumps(dumps, SETUP, {}, async (database) => {
      for (const [file, format] of [
        ['stats.dump', '-Fc'],
        ['stats.sql', '-Fp'],
      ] as const)
        await execa(
          join(pg18, 'pg_dump'),
          [format, '--statistics', `--file=${join(dumps, file)}`, database],
          { env: clusterEnv() },
        );
    });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    ['a custom archive', 'stats.dump'],
    ['a plain dump', 'stats.sql'],
  ])('%s: restores none of its statistics, and staging holds only the masked values', async (_, file) => {
    // What the backup holds: production's addresses in the statistics pg_dump 18 wrote.
    const archive = join(dumps, file);
    const text =
      file === 'stats.sql'
        ? (await execa('cat', [archive])).stdout
        : (await execa(join(pg18, 'pg_restore'), ['--file=-', archive])).stdout;
    const statements =
      text.match(/^SELECT \* FROM pg_catalog\.pg_restore_(relation|attribute)_stats\(/gm) ?? [];
    expect(statements.length).toBeGreaterThanOrEqual(5);
    expect(text).toMatch(/'histogram_bounds', '\{[^']*person\d+@real\.example/);
    // One entry a table and index, each with its header: users and its three indexes, contacts,
    // the order lines and their key.
    const entries = text.match(/^-- Statistics for Name: [^;]+; Type: STATISTICS DATA;/gm)?.length;
    expect(entries).toBe(7);

    const { record, live } = await refreshBackup(
      archive,
      'pg18',
      { anonymize: ANONYMIZE },
      { PG_BIN_DIRS: `${pg18}:${cluster().binDir}` },
    );
    expect(record.error).toBeUndefined();
    expect(record.outcome).toBe('succeeded');
    // An archive of pg_dump 18 takes pg_restore 18; a plain dump, the server's own psql.
    expect(record.clientTools?.version).toMatch(file === 'stats.sql' ? `${SERVER_MAJOR}.` : /^18\./);
    expect(record.anonymize?.statistics).toEqual({ entries, action: 'not-restored' });
    // Staging's statistics are its own rows' (ANALYZE after the restore), and the truncated table
    // has none: no production address. (On this 17 server the restore would have failed first; on
    // an 18 one, restored statistics would have stayed on contacts, which ANALYZE finds empty.)
    const stats = await sql(
      live,
      `SELECT tablename, count(*)::int AS columns,
              bool_and(coalesce(histogram_bounds::text, '') || coalesce(most_common_vals::text, '')
                       NOT LIKE '%real.example%') AS clean
         FROM pg_stats WHERE schemaname = 'public' GROUP BY tablename ORDER BY tablename`,
    );
    expect(stats).toEqual([
      { tablename: 'users', columns: 3, clean: true },
      { tablename: 'users_lower_name', columns: 1, clean: true },
    ]);
    const [row] = await sql(
      live,
      'SELECT count(*)::int AS n, bool_and(email NOT LIKE $1) AS masked FROM users',
      ['person%'],
    );
    expect(row).toEqual({ n: 2000, masked: true });
  });
});
