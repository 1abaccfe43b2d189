// A production database that is not UTF-8 (LATIN1, as legacy databases still are): its dump's COPY
// text is in LATIN1, pg_restore loads it with client_encoding LATIN1, and the masked tables must be
// loaded as faithfully — their unruled non-ASCII fields as they were, their ruled ones masked —
// whichever way the data is read (the archive's own data blocks, or pg_restore for a tar file).
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRefresh } from '../../src/pipeline/run-refresh.js';
import { makeDumps, quiet, sql, tempDir, uniqueDb, writeTestConfig } from '../harness/pg-test-env.js';

const SETUP = `
  CREATE TABLE "Kunden" (
    id int PRIMARY KEY,
    email text NOT NULL UNIQUE,
    nachname text,
    "größe" text,
    notiz text);
  INSERT INTO "Kunden"
    SELECT g, 'Jürgen.Müller' || g || '@Straße.example', 'Müller' || g, 'Größe ' || g,
           CASE WHEN g % 2 = 0 THEN 'Café « crème » ' || g ELSE E'tab\\there ½ ' || g END
      FROM generate_series(1, 300) g;
  CREATE TABLE codes ("kürzel" text UNIQUE, stufe int);
  INSERT INTO codes VALUES ('ä1', 1), ('ö2', 2);
  CREATE TABLE plain_latin1 (id int, word text);
  INSERT INTO plain_latin1 VALUES (1, 'Öl'), (2, 'naïve');`;

const ANONYMIZE = {
  secret: 'latin1-secret',
  tables: {
    'public.Kunden': {
      email: 'email',
      nachname: { fake: 'person.lastName' },
      größe: { mask: { keepFirst: 2 } },
    },
  },
};

describe('a LATIN1 production database', () => {
  const dumps: Record<string, string> = {};
  beforeAll(async () => {
    const dir = await tempDir('latin1-dumps');
    const files = { 'prod-c.dump': 'c', 'prod-t.dump': 't', 'prod-p.sql': 'p' } as const;
    await makeDumps(dir, SETUP, files, undefined, [], "ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'");
    for (const [file, format] of Object.entries(files)) dumps[format] = join(dir, file);
  });

  for (const [format, reader] of [
    ['c', 'its data blocks read directly'],
    ['t', 'pg_restore reading a tar archive'],
    ['p', 'a plain SQL dump streamed to psql'],
  ] as const) {
    it(`loads masked tables as faithfully as pg_restore loads the others (${reader})`, async () => {
      const dir = await tempDir(`latin1-${format}`);
      const live = uniqueDb(`latin1_${format}`);
      const file = format === 'p' ? 'prod.sql' : 'prod.dump';
      const { config } = await writeTestConfig(dir, live, {
        anonymize: ANONYMIZE,
        source: { local: { path: join(dir, 'backups', file) }, maxAge: '8d' },
      });
      await copyFile(dumps[format] as string, join(dir, 'backups', file));
      const record = await runRefresh(config, quiet);
      expect(record.error).toBeUndefined();
      expect(record.outcome).toBe('succeeded');
      expect(record.anonymize?.tables.map((t) => [t.name, t.rows])).toEqual([['public.Kunden', 300]]);
      if (format !== 'p')
        expect(record.anonymize?.tables[0]?.readBy).toBe(format === 'c' ? 'archive' : 'pg_restore');
      // The unruled column as it was, character for character (the staging database is UTF-8).
      const rows = await sql<{ id: number; email: string; nachname: string; größe: string; notiz: string }>(
        live,
        'SELECT id, email, nachname, "größe", notiz FROM "Kunden" ORDER BY id',
      );
      expect(rows).toHaveLength(300);
      expect(rows[1]?.notiz).toBe('Café « crème » 2');
      expect(rows[0]?.notiz).toBe('tab\there ½ 1');
      for (const row of rows) {
        expect(row.email).toMatch(/^u_[0-9a-f]{16}@example\.invalid$/);
        expect(row.nachname).not.toContain('Müller');
        // mask keeps the first two characters: 'Gr', then one masking character per character
        expect(row.größe).toMatch(/^Gr\*+$/);
        expect(row.größe.length).toBe(`Größe ${row.id}`.length);
      }
      expect(await sql(live, 'SELECT word FROM plain_latin1 ORDER BY id')).toEqual([
        { word: 'Öl' },
        { word: 'naïve' },
      ]);
      expect(record.verify.checks.filter((c) => c.status === 'failed')).toEqual([]);
    });
  }

  it("reads the schema's column names in its own encoding (what plan checks rules against)", async () => {
    const { archiveColumns } = await import('../../src/dump/archive-columns.js');
    for (const archive of [
      { kind: 'pg_restore', path: dumps.c as string, format: 'custom' },
      { kind: 'plain', path: dumps.p as string, format: 'plain' },
    ] as const) {
      const columns = await archiveColumns(archive);
      expect(
        columns.filter((column) => column.table === 'public.Kunden').map((column) => column.column),
        archive.format,
      ).toEqual(['id', 'email', 'nachname', 'größe', 'notiz']);
    }
  });

  it('finds a unique key on a column whose name is not ASCII (kept unique when it is masked)', async () => {
    const { archiveUniqueKeys } = await import('../../src/dump/unique-keys.js');
    const keys = await archiveUniqueKeys(dumps.c as string);
    expect(keys.filter((key) => key.table === 'public.codes').map((key) => key.columns)).toEqual([
      ['kürzel'],
    ]);
  });

  it('masks a value the same from a LATIN1 dump as from a UTF-8 one (joins hold across databases)', async () => {
    // The e-mail of row 1 in the staging database, from the custom-format run above, against the
    // rule applied to the same text: the mask is of the characters, not of their LATIN1 bytes.
    const { KeyedPrf } = await import('../../src/anonymize/prf/keyed-prf.js');
    const { compileRule, parseRule } = await import('../../src/anonymize/strategies/registry.js');
    const mask = compileRule(parseRule('email'), {
      prf: new KeyedPrf(ANONYMIZE.secret),
      type: 'text',
      domain: 'example.invalid',
    });
    const dir = await tempDir('latin1-join');
    const live = uniqueDb('latin1_join');
    const { config } = await writeTestConfig(dir, live, { anonymize: ANONYMIZE });
    await copyFile(dumps.c as string, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.outcome).toBe('succeeded');
    expect(await sql(live, 'SELECT email FROM "Kunden" WHERE id = 1')).toEqual([
      { email: mask('Jürgen.Müller1@Straße.example', () => null) },
    ]);
  });

  it('stops with a bad-backup error naming the encoding when its text cannot be decoded, the live database untouched', async () => {
    const dir = await tempDir('euc-tw');
    await makeDumps(
      dir,
      `CREATE TABLE people (id int, name text); INSERT INTO people VALUES (1, 'ascii'), (2, '中文')`,
      { 'prod.dump': 'c' },
      undefined,
      [],
      "ENCODING 'EUC_TW' LC_COLLATE 'C' LC_CTYPE 'C'",
    );
    const dump = join(dir, 'prod.dump');
    const live = uniqueDb('euc_tw_live');
    const { config } = await writeTestConfig(dir, live, {
      anonymize: { secret: 's', tables: { 'public.people': { name: { fake: 'person.lastName' } } } },
    });
    await copyFile(dump, join(dir, 'backups', 'prod.dump'));
    const record = await runRefresh(config, quiet);
    expect(record.outcome).toBe('failed');
    expect(record.error?.code).toBe('bad-backup');
    expect(record.error?.message).toMatch(/EUC_TW, which this tool cannot decode/);
    expect(record.error?.hint).toMatch(/pg_dump --encoding=UTF8/);
    expect(await sql('postgres', 'SELECT 1 AS n FROM pg_database WHERE datname = $1', [live])).toEqual([]);
  });
});
