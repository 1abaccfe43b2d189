import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PlainSqlEvent, plainSqlEvents } from '../../src/dump/plain-sql-events.js';
import { BadBackupError } from '../../src/errors.js';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';
import { statementAction } from '../../src/stages/restore/plain/restore-plain.js';

/** Feeds `text` in chunks of `size` bytes, so lines and UTF-8 characters are split across chunks. */
async function events(text: string, size = 7): Promise<PlainSqlEvent[]> {
  const bytes = Buffer.from(text, 'utf8');
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out: PlainSqlEvent[] = [];
  for await (const event of plainSqlEvents(Readable.from(chunks), 'dump.sql')) out.push(event);
  return out;
}

/** Events with the data batches merged, as a readable summary. */
function summary(list: PlainSqlEvent[]): string[] {
  const lines: string[] = [];
  for (const event of list) {
    if (event.type === 'sql') for (const s of event.statements) lines.push(`sql@${s.line} ${s.kind}`);
    else if (event.type === 'meta') lines.push(`meta@${event.lineNumber} ${event.line}`);
    else if (event.type === 'copy-start')
      lines.push(`copy@${event.lineNumber} ${event.schema}.${event.table}(${event.columns.join(',')})`);
    else if (event.type === 'copy-data') for (const line of event.lines) lines.push(`row ${line}`);
    else lines.push('end');
  }
  return lines;
}

const DUMP = `--
-- PostgreSQL database dump
--

\\restrict abc

SET client_encoding = 'UTF8';
SELECT pg_catalog.set_config('search_path', '', false);

CREATE FUNCTION public.f() RETURNS text
    LANGUAGE plpgsql
    AS $$
BEGIN
COPY public.t (a) FROM stdin;
\\.
END;
$$;

CREATE TABLE public."we ird" (
    "a b" text,
    c integer
);

ALTER TABLE public."we ird" OWNER TO prod;

COPY public."we ird" ("a b", c) FROM stdin;
tab\\there	1
ünïcode	\\N
\\.

SELECT pg_catalog.setval('public.s', 3, true);
CREATE INDEX i ON public."we ird" USING btree (c);
`;

describe('plain SQL dump events', () => {
  beforeAll(() => loadParser());

  it('splits statements with the parser, sees a COPY header inside a function body as SQL, keeps data exact', async () => {
    for (const size of [1, 7, 4096]) {
      expect(summary(await events(DUMP, size))).toEqual([
        'meta@5 \\restrict abc',
        'sql@7 VariableSetStmt',
        'sql@8 SelectStmt',
        'sql@10 CreateFunctionStmt',
        'sql@19 CreateStmt',
        'sql@24 AlterTableStmt',
        'copy@26 public.we ird(a b,c)',
        'row tab\\there\t1',
        'row ünïcode\t\\N',
        'end',
        'sql@31 SelectStmt',
        'sql@32 IndexStmt',
      ]);
    }
  });

  it('a dump cut inside a COPY block or inside a statement is a bad backup', async () => {
    const cut = DUMP.slice(0, DUMP.indexOf('ünïcode'));
    await expect(events(cut)).rejects.toThrow(BadBackupError);
    await expect(events(cut)).rejects.toThrow(/ends in the middle of a COPY block/);
    const midStatement = DUMP.slice(0, DUMP.indexOf('c integer'));
    await expect(events(midStatement)).rejects.toThrow(/does not parse/);
  });

  it('leaves out what pg_restore --no-owner --no-privileges --no-tablespaces leaves out', () => {
    const action = (sql: string) => {
      const [statement] = parseStatements(sql);
      return statementAction(statement!);
    };
    expect(action('ALTER TABLE public.t OWNER TO prod')).toBe('drop');
    expect(action('ALTER FUNCTION public.f() OWNER TO prod')).toBe('drop');
    expect(action('ALTER SCHEMA public OWNER TO pg_database_owner')).toBe('drop');
    expect(action('GRANT SELECT ON TABLE public.t TO reporting')).toBe('drop');
    expect(action('REVOKE ALL ON SCHEMA public FROM PUBLIC')).toBe('drop');
    expect(action("SET default_tablespace = 'fast_ssd'")).toBe('drop');
    expect(action('SET SESSION AUTHORIZATION prod')).toBe('drop');
    expect(action('CREATE DATABASE prod')).toBe('drop');
    expect(action('CREATE PUBLICATION p FOR ALL TABLES')).toBe('drop');
    // …and keeps the rest; session settings are replayed for the data session
    expect(action("SET default_tablespace = ''")).toBe('keep-and-replay');
    expect(action("SELECT pg_catalog.set_config('search_path', '', false)")).toBe('keep-and-replay');
    expect(action('ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id)')).toBe('keep');
    expect(action('ALTER TABLE public.t OWNER TO prod, ADD COLUMN x int')).toBe('keep');
    expect(action("SELECT pg_catalog.setval('public.s', 3, true)")).toBe('keep');
  });
});
