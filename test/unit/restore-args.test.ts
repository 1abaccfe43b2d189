import { describe, expect, it } from 'vitest';
import { formatFromHeader } from '../../src/dump/archive-format.js';
import { pgRestoreArgs } from '../../src/dump/pg-restore-args.js';
import { majorVersion, parseToc, tablesWithData, withArchiveNames } from '../../src/dump/toc.js';
import { describeTarget, libpqEnv, parsePgUrl } from '../../src/infra/pg/connection.js';

describe('pg_restore arguments', () => {
  it('restores pre-data in one process, owned by the configured role', () => {
    expect(
      pgRestoreArgs({
        archive: '/w/b.dump',
        database: 'app__next',
        section: 'pre-data',
        jobs: 4,
        role: 'app',
      }),
    ).toEqual([
      '--dbname=app__next',
      '--section=pre-data',
      '--no-owner',
      '--no-privileges',
      '--no-publications',
      '--no-subscriptions',
      '--no-security-labels',
      '--no-tablespaces',
      '--exit-on-error',
      '--role=app',
      '/w/b.dump',
    ]);
  });

  it('restores a tar archive without -j: pg_restore cannot read one in parallel', () => {
    const args = (format: 'tar' | 'directory') =>
      pgRestoreArgs({ archive: 'b', database: 'app__next', section: 'data', jobs: 4, format });
    expect(args('tar').some((arg) => arg.startsWith('--jobs'))).toBe(false);
    expect(args('directory')).toContain('--jobs=4');
  });

  it('parallelises data and post-data, and never passes a password', () => {
    const args = pgRestoreArgs({
      archive: 'b.dump',
      database: 'app__next',
      section: 'post-data',
      jobs: 4,
      listFile: 'l.txt',
    });
    expect(args).toContain('--jobs=4');
    expect(args).toContain('--use-list=l.txt');
    expect(args).not.toContain('--role');
    const target = parsePgUrl('postgres://refresh:hunter2@db:6432/app?sslmode=require');
    expect(describeTarget(target)).toBe('postgres://refresh@db:6432/app');
    expect(libpqEnv(target)).toEqual({
      PGHOST: 'db',
      PGPORT: '6432',
      PGUSER: 'refresh',
      PGDATABASE: 'app',
      PGPASSWORD: 'hunter2',
      PGSSLMODE: 'require',
    });
  });
});

const LISTING = `;
; Archive created at 2026-11-25 06:00:00 UTC
;     dbname: app
;     TOC Entries: 12
;     Compression: gzip
;     Dump Version: 1.14-0
;     Format: CUSTOM
;     Dumped from database version: 15.18 (Debian 15.18-0+deb12u1)
;     Dumped by pg_dump version: 15.18 (Debian 15.18-0+deb12u1)
;
; Selected TOC Entries:
;
215; 1259 16386 TABLE public users postgres
216; 1259 16390 TABLE billing order lines app
3350; 0 16386 TABLE DATA public users postgres
3351; 0 16390 TABLE DATA billing order lines app
3200; 2606 16400 CONSTRAINT public users users_pkey postgres
3210; 2606 16410 FK CONSTRAINT public orders orders_user_id_fkey postgres
3220; 0 0 SEQUENCE SET public users_id_seq postgres
`;

describe('archive table of contents', () => {
  it('takes schema, name and owner from the archive where the listing cannot tell them apart', () => {
    const listing = [
      '3344; 0 175052 TABLE DATA public users app owner',
      '3345; 0 175059 TABLE DATA Sales EU order lines app owner',
      '3346; 0 175060 TABLE DATA public naïve postgres',
    ].join('\n');
    const names = new Map([
      [3344, { desc: 'TABLE DATA', namespace: 'public', tag: 'users', owner: 'app owner' }],
      [3345, { desc: 'TABLE DATA', namespace: 'Sales EU', tag: 'order lines', owner: 'app owner' }],
      // decoded otherwise than the listing: the listing's reading stands
      [3346, { desc: 'TABLE DATA', namespace: 'public', tag: 'na\u00efve-other', owner: 'postgres' }],
    ]);
    const toc = parseToc(listing);
    expect(tablesWithData(toc)).toEqual(['public.users app', 'Sales.EU order lines app', 'public.naïve']);
    expect(tablesWithData(withArchiveNames(toc, names))).toEqual([
      'public.users',
      'Sales EU.order lines',
      'public.naïve',
    ]);
    expect(withArchiveNames(toc, names).entries.map((entry) => entry.owner)).toEqual([
      'app owner',
      'app owner',
      'postgres',
    ]);
  });

  it('reads header facts and entries, including names with spaces', () => {
    const toc = parseToc(LISTING);
    expect(toc).toMatchObject({
      dbname: 'app',
      format: 'CUSTOM',
      dumpVersion: '15.18 (Debian 15.18-0+deb12u1)',
    });
    expect(tablesWithData(toc)).toEqual(['public.users', 'billing.order lines']);
    expect(toc.entries.map((entry) => entry.type)).toEqual([
      'TABLE',
      'TABLE',
      'TABLE DATA',
      'TABLE DATA',
      'CONSTRAINT',
      'FK CONSTRAINT',
      'SEQUENCE SET',
    ]);
  });

  it('reads major versions old and new', () => {
    expect(majorVersion('15.18 (Debian 15.18-0+deb12u1)')).toBe(15);
    expect(majorVersion('9.6.24')).toBe(9.6);
    expect(majorVersion(undefined)).toBeUndefined();
  });

  it('tells formats from the first bytes', () => {
    expect(formatFromHeader(Buffer.from('PGDMP\u0001\u000e'))).toBe('custom');
    const tar = Buffer.alloc(512);
    tar.write('ustar', 257, 'latin1');
    expect(formatFromHeader(tar)).toBe('tar');
    expect(formatFromHeader(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(formatFromHeader(Buffer.from('--\n-- PostgreSQL database dump\n'))).toBe('plain');
    expect(formatFromHeader(Buffer.from([0, 1, 2, 3]))).toBe('unknown');
  });
});
