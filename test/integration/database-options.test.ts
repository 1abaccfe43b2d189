// Staging is created with production's encoding and locale (database-options.ts, next-database.ts):
// read from the archive's DATABASE entry, so text sorts, compares and is indexed as in production.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ident } from '../../src/infra/pg/connection.js';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { cluster, quiet, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';

const WORDS = `CREATE TABLE words (w text PRIMARY KEY); INSERT INTO words VALUES ('b'), ('B'), ('a'), ('ä'), ('Z');`;
const SORTED = `SELECT string_agg(w, ',' ORDER BY w) AS sorted FROM words`;

/** A production database created with `options`, dumped (custom format) into `dir`, dropped. */
async function productionDump(dir: string, options: string): Promise<string> {
  const info = cluster();
  const source = uniqueDb('prod_opts');
  await sql('postgres', `CREATE DATABASE ${ident(source)} TEMPLATE template0 ${options}`);
  try {
    await sql(source, WORDS);
    const file = join(dir, 'backups', 'prod.dump');
    await execa(join(info.binDir, 'pg_dump'), ['-Fc', `--file=${file}`, source], {
      env: { PGHOST: info.host, PGPORT: String(info.port), PGUSER: info.user, PGPASSWORD: info.password },
    });
    return (await sql<{ sorted: string }>(source, SORTED))[0]?.sorted as string;
  } finally {
    await sql('postgres', `DROP DATABASE ${ident(source)} WITH (FORCE)`);
  }
}

describe("staging created with production's encoding and locale", () => {
  it('an ICU collation (de-DE): staging sorts text as production does, not as the server default', async () => {
    const dir = await tempDir('db-icu');
    const live = uniqueDb('icu_live');
    const { config } = await writeTestConfig(dir, live);
    const productionOrder = await productionDump(
      dir,
      "LOCALE_PROVIDER 'icu' ICU_LOCALE 'de-DE' LOCALE 'C.UTF-8'",
    );
    expect(productionOrder).toBe('a,ä,b,B,Z');
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.restore?.databaseOptions?.production).toMatchObject({
      locale_provider: 'icu',
      icu_locale: 'de-DE',
    });
    expect(record.restore?.databaseOptions?.staging).toMatchObject({
      encoding: 'UTF8',
      locale_provider: 'icu',
      icu_locale: 'de-DE',
    });
    expect(record.restore?.databaseOptions?.difference).toBeUndefined();
    // The server's default (C.UTF-8) would sort B,Z,a,b,ä.
    expect((await sql<{ sorted: string }>(live, SORTED))[0]?.sorted).toBe(productionOrder);
  });

  it('a LATIN1 database stays LATIN1 (its text is not converted to UTF-8 on the way)', async () => {
    const dir = await tempDir('db-latin1');
    const live = uniqueDb('latin1_opts_live');
    const { config } = await writeTestConfig(dir, live);
    await productionDump(dir, "ENCODING 'LATIN1' LOCALE 'C'");
    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    expect(record.restore?.databaseOptions?.staging).toMatchObject({ encoding: 'LATIN1', locale: 'C' });
    const [row] = await sql(
      'postgres',
      'SELECT pg_encoding_to_char(encoding) AS encoding, datcollate FROM pg_database WHERE datname = $1',
      [live],
    );
    expect(row).toEqual({ encoding: 'LATIN1', datcollate: 'C' });
    expect(
      (await sql<{ n: number }>(live, 'SELECT octet_length(w) AS n FROM words WHERE w > $1', ['z']))[0]?.n,
    ).toBe(1);
  });

  it("a locale this server lacks: production's encoding with the C locale, and the record says what differs", async () => {
    const dir = await tempDir('db-missing-locale');
    const live = uniqueDb('missing_locale_live');
    const { config } = await writeTestConfig(dir, live);
    await productionDump(dir, "LOCALE 'C.UTF-8'");
    // Production's locale as one this server has not got: the same length, so the archive's
    // lengths and offsets still hold.
    const file = join(dir, 'backups', 'prod.dump');
    const bytes = await readFile(file);
    const from = Buffer.from("LOCALE = 'C.UTF-8'");
    const at = bytes.indexOf(from);
    expect(at).toBeGreaterThan(-1);
    Buffer.from("LOCALE = 'C.UTF-9'").copy(bytes, at);
    await writeFile(file, bytes);

    const record = await runRefresh(config, quiet);
    expect(record.error).toBeUndefined();
    const options = record.restore?.databaseOptions;
    expect(options?.production).toMatchObject({ encoding: 'UTF8', locale: 'C.UTF-9' });
    expect(options?.staging).toMatchObject({ encoding: 'UTF8', locale: 'C' });
    expect(options?.difference).toMatch(
      /production's database has ENCODING 'UTF8', LOCALE_PROVIDER 'libc', LOCALE 'C.UTF-9'; this staging server refused it \(invalid .*locale name.*\), so staging was created with ENCODING 'UTF8', LOCALE_PROVIDER 'libc', LOCALE 'C'.*install that locale/,
    );
    expect(record.warnings).toContain(options?.difference);
  });
});
