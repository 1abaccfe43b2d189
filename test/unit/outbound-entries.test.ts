import { describe, expect, it } from 'vitest';
import { onlyEntries, outboundEntries } from '../../src/dump/outbound-entries.js';
import { parseToc } from '../../src/dump/toc.js';

// pg_restore --list of a dump with links to production (PostgreSQL 15), trimmed.
const LISTING = `;
; Archive created at 2026-12-01 23:36:50 UTC
;     dbname: t_prod_x
;
2; 3079 16396 EXTENSION - postgres_fdw 
2101; 1417 16469 SERVER - other staging postgres
2100; 1417 16464 SERVER - prod postgres
3422; 0 0 USER MAPPING - USER MAPPING postgres SERVER prod postgres
3423; 0 0 USER MAPPING - USER MAPPING app SERVER other staging postgres
220; 1259 16466 FOREIGN TABLE public remote_secrets postgres
218; 1259 16449 TABLE public users postgres
3412; 0 16449 TABLE DATA public users postgres
3415; 0 16500 TABLE DATA cron job postgres
3500; 6104 16600 PUBLICATION - pub postgres
3501; 6100 16601 SUBSCRIPTION - sub postgres
3264; 3466 16474 EVENT TRIGGER - report_ddl postgres
`;

describe('outboundEntries', () => {
  const toc = parseToc(LISTING);

  it('leaves out user mappings, publications, subscriptions and cron rows, and holds event triggers back', () => {
    const outbound = outboundEntries(LISTING, toc.entries, []);
    expect(outbound.skipped.map((s) => `${s.record.kind} ${s.record.name}`)).toEqual([
      'user-mapping postgres@prod',
      'user-mapping app@other staging',
      'cron-job cron.job',
      'publication pub',
      'subscription sub',
    ]);
    expect(outbound.deferred.map((entry) => entry.name)).toEqual(['report_ddl']);
    const restored = outbound.listing.split('\n').filter((line) => /^\d/.test(line));
    expect(restored.map((line) => line.split(';')[0])).toEqual(['2', '2101', '2100', '220', '218', '3412']);
    expect(
      onlyEntries(LISTING, outbound.deferred)
        .split('\n')
        .filter((line) => /^\d/.test(line)),
    ).toEqual(['3264; 3466 16474 EVENT TRIGGER - report_ddl postgres']);
  });

  it('keeps the user mappings of a kept server and the cron rows when a job is kept', () => {
    const outbound = outboundEntries(LISTING, toc.entries, [
      { kind: 'foreign-server', name: 'other staging', reason: 'r' },
      { kind: 'cron-job', name: 'nightly', reason: 'r' },
    ]);
    expect(outbound.skipped.map((s) => s.record.name)).toEqual(['postgres@prod', 'pub', 'sub']);
  });

  it('leaves the listing as it is when there is nothing to leave out', () => {
    const plain = LISTING.split('\n')
      .filter((line) => !/USER MAPPING|cron|PUBLICATION|SUBSCRIPTION|EVENT/.test(line))
      .join('\n');
    expect(outboundEntries(plain, parseToc(plain).entries, []).listing).toBe(plain);
  });
});
