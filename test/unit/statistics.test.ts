// Optimizer statistics in a pg_dump 18 backup (--statistics) are told apart from everything else
// a restore runs: by their TOC entries' type in an archive, by the function a plain dump's SELECT
// calls. The texts below are pg_dump 18.6's and pg_restore 18.6's own output, shortened.
import { beforeAll, describe, expect, it } from 'vitest';
import { isStatisticsEntry, statisticsCall } from '../../src/anonymize/statistics.js';
import { withoutEntries } from '../../src/dump/outbound-entries.js';
import { parseToc } from '../../src/dump/toc.js';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';

const LISTING = `;
; Archive created at 2026-12-05 17:14:26 UTC
;     dbname: prod
;     Dump Version: 1.16-0
;     Format: CUSTOM
;     Dumped from database version: 15.18 (Debian 15.18-0+deb12u1)
;     Dumped by pg_dump version: 18.6 (Debian 18.6-3)
;
; Selected TOC Entries:
;
214; 1259 16385 TABLE public users postgres
3347; 0 16385 TABLE DATA public users postgres
3354; 0 0 STATISTICS DATA public users 
3199; 2606 16393 CONSTRAINT public users users_email_key postgres
3355; 0 0 STATISTICS DATA public users_email_key 
3200; 1259 16394 INDEX public users_lower postgres
3356; 0 0 STATISTICS DATA public users_lower 
`;

const PLAIN = `SELECT * FROM pg_catalog.pg_restore_relation_stats(
	'version', '150018'::integer,
	'schemaname', 'public',
	'relname', 'users',
	'relpages', '1'::integer,
	'reltuples', '50'::real,
	'relallvisible', '0'::integer
);
SELECT * FROM pg_catalog.pg_restore_attribute_stats(
	'version', '150018'::integer,
	'schemaname', 'public',
	'relname', 'users',
	'attname', 'email',
	'inherited', 'f'::boolean,
	'null_frac', '0'::real,
	'avg_width', '21'::integer,
	'n_distinct', '-1'::real,
	'histogram_bounds', '{person0@real.example,person10@real.example}'::text,
	'correlation', '0.24369748'::real
);
SELECT pg_restore_attribute_stats('schemaname', 'public', 'relname', 'users', 'attname', 'name');
SELECT pg_catalog.set_config('search_path', '', false);
SELECT * FROM pg_catalog.pg_stat_reset();
CREATE VIEW v AS SELECT * FROM pg_catalog.pg_restore_relation_stats('relname', 'users');
SELECT email FROM users WHERE email = 'pg_restore_attribute_stats';`;

describe('statistics in a pg_dump 18 backup', () => {
  beforeAll(loadParser);

  it("finds an archive's STATISTICS DATA entries, and a -L list restores everything else", () => {
    const toc = parseToc(LISTING);
    const statistics = toc.entries.filter(isStatisticsEntry);
    expect(statistics.map((entry) => [entry.dumpId, entry.schema, entry.name])).toEqual([
      [3354, 'public', 'users'],
      [3355, 'public', 'users_email_key'],
      [3356, 'public', 'users_lower'],
    ]);
    const list = withoutEntries(LISTING, statistics).split('\n');
    expect(list.filter((line) => /^\d/.test(line))).toEqual([
      '214; 1259 16385 TABLE public users postgres',
      '3347; 0 16385 TABLE DATA public users postgres',
      '3199; 2606 16393 CONSTRAINT public users users_email_key postgres',
      '3200; 1259 16394 INDEX public users_lower postgres',
    ]);
    expect(list.filter((line) => line.includes('STATISTICS DATA'))).toHaveLength(3);
    expect(
      list.filter((line) => line.includes('STATISTICS DATA')).every((line) => line.startsWith(';')),
    ).toBe(true);
  });

  it("finds a plain dump's statements that restore statistics, and no other statement", () => {
    const found = parseStatements(PLAIN).map((statement) => statisticsCall(statement));
    expect(found).toEqual(['relation', 'attribute', 'attribute', undefined, undefined, undefined, undefined]);
  });
});
