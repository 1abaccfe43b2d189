import { beforeAll, describe, expect, it } from 'vitest';
import { indexEntries, indexesOf } from '../../src/dump/table-indexes.js';
import { parseToc } from '../../src/dump/toc.js';
import { loadParser } from '../../src/sql/parse-sql.js';

// What `pg_restore -l` and `pg_restore --section=post-data -L <those entries> -f -` print for a
// pg_dump 15 archive (trimmed to the entries that matter).
const LISTING = `;
; Archive created at 2026-12-02 17:15:00 UTC
3236; 2606 16400 CONSTRAINT public accounts accounts_pkey postgres
3240; 2606 16410 CONSTRAINT odd.schema Odd Table Odd Table_pkey postgres
3242; 2606 16420 CONSTRAINT public events events_pkey postgres
3237; 1259 16401 INDEX public accounts_lower_email postgres
3238; 1259 16402 INDEX public events_email postgres
3250; 0 0 INDEX ATTACH public events_2024_email_idx postgres
3260; 2606 16430 FK CONSTRAINT public notes notes_account_id_fkey postgres
;3270; 1259 16440 INDEX public skipped_idx postgres
`;

const TEXT = `--
-- PostgreSQL database dump
--

\\restrict abc

SET statement_timeout = 0;

--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);

ALTER TABLE public.accounts CLUSTER ON accounts_pkey;


--
-- Name: Odd Table Odd Table_pkey; Type: CONSTRAINT; Schema: odd.schema; Owner: postgres
--

ALTER TABLE ONLY "odd.schema"."Odd Table"
    ADD CONSTRAINT "Odd Table_pkey" PRIMARY KEY (id);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id, at);


--
-- Name: accounts_lower_email; Type: INDEX; Schema: public; Owner: postgres
--

CREATE UNIQUE INDEX accounts_lower_email ON public.accounts USING btree (lower(email));


--
-- Name: events_email; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX events_email ON ONLY public.events USING btree (email);


--
-- PostgreSQL database dump complete
--

\\unrestrict abc
`;

describe('index entries of a table', () => {
  beforeAll(() => loadParser());
  const entries = parseToc(LISTING).entries;
  const candidates = indexEntries(LISTING, entries);

  it('takes INDEX and CONSTRAINT entries the listing restores: not INDEX ATTACH, foreign keys or commented-out lines', () => {
    expect(candidates.map((entry) => entry.dumpId)).toEqual([3236, 3240, 3242, 3237, 3238]);
  });

  it('pairs each entry with its statement and keeps those on the given tables, quoted and dotted names too', () => {
    const tables = new Set(['public.accounts', '"odd.schema".Odd Table', 'public.events']);
    const found = indexesOf(TEXT, candidates, tables);
    expect([...found].map(([table, list]) => [table, list.map((entry) => entry.dumpId)])).toEqual([
      ['public.accounts', [3236, 3237]],
      ['"odd.schema".Odd Table', [3240]],
      // ALTER TABLE ONLY on a plain table is a key; CREATE INDEX … ON ONLY is a partitioned table's
      ['public.events', [3242]],
    ]);
    expect([...indexesOf(TEXT, candidates, new Set(['public.accounts'])).keys()]).toEqual([
      'public.accounts',
    ]);
  });

  it('leaves to the post-data pass an entry it cannot parse, one calling a function of the schema, one whose name differs', () => {
    const tables = new Set(['public.accounts', '"odd.schema".Odd Table', 'public.events']);
    const found = (text: string) =>
      [...indexesOf(text, candidates, tables)].map(([table, list]) => [
        table,
        list.map((entry) => entry.dumpId),
      ]);
    // a newer server's syntax: this entry waits, the others are still built early
    expect(
      found(TEXT.replace('PRIMARY KEY (id, at)', 'PRIMARY KEY (id, at WITHOUT OVERLAPS) FROBNICATE')),
    ).toEqual([
      ['public.accounts', [3236, 3237]],
      ['"odd.schema".Odd Table', [3240]],
    ]);
    // public.norm() might read another table, loaded or not yet; pg_catalog.lower() reads none
    expect(found(TEXT.replace('(lower(email))', '(public.norm(email))'))).toEqual([
      ['public.accounts', [3236]],
      ['"odd.schema".Odd Table', [3240]],
      ['public.events', [3242]],
    ]);
    expect(found(TEXT.replace('(lower(email))', '(pg_catalog.lower(email))'))[0]).toEqual([
      'public.accounts',
      [3236, 3237],
    ]);
    expect(found(TEXT.replace('-- Name: accounts_lower_email;', '-- Name: accounts_other;'))[0]).toEqual([
      'public.accounts',
      [3236],
    ]);
  });

  it('finds nothing when the text does not line up with the entries (the one post-data pass builds all)', () => {
    expect(indexesOf(TEXT, candidates.slice(1), new Set(['public.accounts'])).size).toBe(0);
    const reordered = [candidates[3], candidates[0], ...candidates.slice(1, 3), candidates[4]].filter(
      (entry) => entry !== undefined,
    );
    expect(indexesOf(TEXT, reordered, new Set(['public.accounts'])).size).toBe(0);
    expect(indexesOf('CREATE INDEX (', candidates, new Set(['public.accounts'])).size).toBe(0);
  });
});
