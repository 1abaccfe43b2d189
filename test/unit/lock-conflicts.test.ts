import { describe, expect, it } from 'vitest';
import {
  blockedOperations,
  blocksReads,
  blocksWrites,
  conflicts,
  LOCK_MODES,
  type LockMode,
} from '../../src/sql/lock-conflicts.js';

// Table 13.2 of the PostgreSQL documentation, row by row: X marks a conflict with the column's mode
// (columns in LOCK_MODES order: ACCESS SHARE … ACCESS EXCLUSIVE).
const DOCUMENTED: Record<LockMode, string> = {
  AccessShareLock: '       X',
  RowShareLock: '      XX',
  RowExclusiveLock: '    XXXX',
  ShareUpdateExclusiveLock: '   XXXXX',
  ShareLock: '  XX XXX',
  ShareRowExclusiveLock: '  XXXXXX',
  ExclusiveLock: ' XXXXXXX',
  AccessExclusiveLock: 'XXXXXXXX',
};

describe('lock conflict table', () => {
  for (const held of LOCK_MODES) {
    it(`${held} conflicts exactly as documented`, () => {
      const row = LOCK_MODES.map((requested) => (conflicts(held, requested) ? 'X' : ' ')).join('');
      expect(row).toBe(DOCUMENTED[held]);
    });
  }

  it('is symmetric, as the documented table is', () => {
    for (const a of LOCK_MODES) for (const b of LOCK_MODES) expect(conflicts(a, b)).toBe(conflicts(b, a));
  });

  it('says a plain CREATE INDEX (SHARE) blocks writes but not reads', () => {
    expect(blocksWrites('ShareLock')).toBe(true);
    expect(blocksReads('ShareLock')).toBe(false);
    expect(blockedOperations('ShareLock')).toEqual([
      'INSERT/UPDATE/DELETE',
      'VACUUM/autovacuum/ANALYZE',
      'CREATE TRIGGER/ADD FOREIGN KEY',
      'ALTER TABLE/DROP/TRUNCATE',
    ]);
  });

  it('says CONCURRENTLY (SHARE UPDATE EXCLUSIVE) blocks neither reads nor writes, but does block vacuum', () => {
    expect(blocksWrites('ShareUpdateExclusiveLock')).toBe(false);
    expect(blocksReads('ShareUpdateExclusiveLock')).toBe(false);
    expect(blockedOperations('ShareUpdateExclusiveLock')).toContain('VACUUM/autovacuum/ANALYZE');
  });

  it('says ACCESS EXCLUSIVE blocks everything and ACCESS SHARE only DDL', () => {
    expect(blockedOperations('AccessExclusiveLock')).toHaveLength(7);
    expect(blockedOperations('AccessShareLock')).toEqual(['ALTER TABLE/DROP/TRUNCATE']);
    expect(blockedOperations('ExclusiveLock')).not.toContain('SELECT');
    expect(blockedOperations('ExclusiveLock')).toContain('SELECT FOR UPDATE/SHARE');
  });

  it('blocks nothing for modes that are not table lock modes', () => {
    expect(blockedOperations('AdvisoryLock')).toEqual([]);
    expect(blocksWrites('SIReadLock')).toBe(false);
  });
});
