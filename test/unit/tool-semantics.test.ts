// The pure parts of each tool's semantics, against the tools' own test vectors where they have
// them (prisma-engines schema-connector/src/checksum.rs tests; Flyway's PostgreSQLParser rules).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, parseStatements } from '../../src/sql/parse-sql.js';
import { flywayIgnores, flywayNonTransactional } from '../../src/stages/migrate/adapters/flyway-adapter.js';
import { prismaChecksum, prismaChecksumMatches } from '../../src/stages/migrate/adapters/prisma-adapter.js';
import { NO_TRANSACTION_MARKER } from '../../src/stages/migrate/adapters/sql-adapter.js';

describe('prisma checksums', () => {
  it('renders sha256 zero-padded (format_checksum_does_not_strip_zeros)', () => {
    expect(prismaChecksum('hello')).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it('matches across line endings (script_matches_checksum_is_line_ending_agnostic)', () => {
    const groups = [
      ['ab\ncd\nef\ngh\rab', 'ab\r\ncd\r\nef\r\ngh\rab'],
      ['ab\ncd\nef\ngh\rab\n', 'ab\r\ncd\r\nef\r\ngh\rab\r\n'],
    ];
    for (const group of groups)
      for (const script of group)
        for (const other of group) expect(prismaChecksumMatches(script, prismaChecksum(other))).toBe(true);
  });

  it('does not match other scripts (script_matches_checksum_negative)', () => {
    expect(prismaChecksumMatches('abc', prismaChecksum('abcd'))).toBe(false);
    expect(prismaChecksumMatches('abc\n', prismaChecksum('abc'))).toBe(false);
  });

  it('matches a legacy checksum written without leading zeros, and only that rendering', () => {
    // "hello"'s digest has bytes below 0x10 (…0e…, …0a…): the legacy rendering is shorter.
    const legacy = '2cf24dba5fb0a3e26e83b2ac5b9e29e1b161e5c1fa7425e7343362938b9824';
    expect(legacy.length).toBeLessThan(64);
    expect(prismaChecksumMatches('hello', legacy)).toBe(true);
    expect(prismaChecksumMatches('hello!', legacy)).toBe(false);
  });
});

describe("Flyway's non-transactional statements (PostgreSQLParser.detectCanExecuteInTransaction)", () => {
  beforeAll(() => loadParser());
  const non = (sql: string) => parseStatements(sql).map(flywayNonTransactional);

  it('marks what Flyway marks', () => {
    expect(
      non(`CREATE INDEX CONCURRENTLY a ON t (x); CREATE UNIQUE INDEX CONCURRENTLY b ON t (x); DROP INDEX CONCURRENTLY a;
           REINDEX SCHEMA public; REINDEX DATABASE d; VACUUM t; DISCARD ALL; ALTER SYSTEM SET work_mem = '8MB';
           CREATE DATABASE d2; DROP DATABASE d2; CREATE TABLESPACE ts LOCATION '/x'; DROP SUBSCRIPTION s`),
    ).toEqual(Array(12).fill(true));
  });

  it('leaves the rest in its transaction, REINDEX INDEX|TABLE CONCURRENTLY included', () => {
    expect(
      non(`CREATE INDEX a ON t (x); DROP INDEX a; REINDEX INDEX CONCURRENTLY a; REINDEX TABLE CONCURRENTLY t;
           ANALYZE t; DISCARD PLANS; ALTER TYPE e ADD VALUE 'x'; DROP TABLE t`),
    ).toEqual(Array(8).fill(false));
  });

  it('ignoreMigrationPatterns: type:state with wildcards, case-insensitive', () => {
    expect(flywayIgnores(['*:future'], 'versioned', 'future')).toBe(true);
    expect(flywayIgnores(['*:future'], 'versioned', 'missing')).toBe(false);
    expect(flywayIgnores(['Versioned:Missing'], 'versioned', 'missing')).toBe(true);
    expect(flywayIgnores(['repeatable:*'], 'versioned', 'missing')).toBe(false);
  });
});

describe('the sql tool’s no-transaction marker', () => {
  it('is the first line only', () => {
    expect(NO_TRANSACTION_MARKER.test('-- staging-refresh:no-transaction\nVACUUM t;')).toBe(true);
    expect(NO_TRANSACTION_MARKER.test('\uFEFF--staging-refresh:no-transaction\r\nSELECT 1;')).toBe(true);
    expect(NO_TRANSACTION_MARKER.test('SELECT 1;\n-- staging-refresh:no-transaction\n')).toBe(false);
    expect(NO_TRANSACTION_MARKER.test('-- staging-refresh:no-transactions\n')).toBe(false);
  });
});
