// PostgreSQL's table-level lock conflict table (docs, "Explicit Locking", Table 13.2) and what
// each mode means for the application: which ordinary operations it blocks.

/** Lock modes as pg_locks.mode prints them, weakest first. */
export const LOCK_MODES = [
  'AccessShareLock',
  'RowShareLock',
  'RowExclusiveLock',
  'ShareUpdateExclusiveLock',
  'ShareLock',
  'ShareRowExclusiveLock',
  'ExclusiveLock',
  'AccessExclusiveLock',
] as const;
export type LockMode = (typeof LOCK_MODES)[number];

const CONFLICTS: Record<LockMode, readonly LockMode[]> = {
  AccessShareLock: ['AccessExclusiveLock'],
  RowShareLock: ['ExclusiveLock', 'AccessExclusiveLock'],
  RowExclusiveLock: ['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ShareUpdateExclusiveLock: [
    'ShareUpdateExclusiveLock',
    'ShareLock',
    'ShareRowExclusiveLock',
    'ExclusiveLock',
    'AccessExclusiveLock',
  ],
  ShareLock: [
    'RowExclusiveLock',
    'ShareUpdateExclusiveLock',
    'ShareRowExclusiveLock',
    'ExclusiveLock',
    'AccessExclusiveLock',
  ],
  ShareRowExclusiveLock: [
    'RowExclusiveLock',
    'ShareUpdateExclusiveLock',
    'ShareLock',
    'ShareRowExclusiveLock',
    'ExclusiveLock',
    'AccessExclusiveLock',
  ],
  ExclusiveLock: [
    'RowShareLock',
    'RowExclusiveLock',
    'ShareUpdateExclusiveLock',
    'ShareLock',
    'ShareRowExclusiveLock',
    'ExclusiveLock',
    'AccessExclusiveLock',
  ],
  AccessExclusiveLock: [...LOCK_MODES],
};

/** Ordinary operations, each with the lock it needs on the table. */
export const OPERATIONS = [
  { name: 'SELECT', mode: 'AccessShareLock' },
  { name: 'SELECT FOR UPDATE/SHARE', mode: 'RowShareLock' },
  { name: 'INSERT/UPDATE/DELETE', mode: 'RowExclusiveLock' },
  { name: 'VACUUM/autovacuum/ANALYZE', mode: 'ShareUpdateExclusiveLock' },
  { name: 'CREATE INDEX', mode: 'ShareLock' },
  { name: 'CREATE TRIGGER/ADD FOREIGN KEY', mode: 'ShareRowExclusiveLock' },
  { name: 'ALTER TABLE/DROP/TRUNCATE', mode: 'AccessExclusiveLock' },
] as const satisfies readonly { name: string; mode: LockMode }[];

/** True when a lock held in `held` makes a request for `requested` wait. */
export function conflicts(held: LockMode, requested: LockMode): boolean {
  return CONFLICTS[held].includes(requested);
}

/** The operations a lock of this mode blocks, by name. Unknown modes (advisory, …) block none. */
export function blockedOperations(mode: string): string[] {
  if (!isLockMode(mode)) return [];
  return OPERATIONS.filter((operation) => conflicts(mode, operation.mode)).map((operation) => operation.name);
}

/** Does a lock of this mode block plain reads (SELECT)? */
export function blocksReads(mode: string): boolean {
  return isLockMode(mode) && conflicts(mode, 'AccessShareLock');
}

/** Does a lock of this mode block writes (INSERT/UPDATE/DELETE)? */
export function blocksWrites(mode: string): boolean {
  return isLockMode(mode) && conflicts(mode, 'RowExclusiveLock');
}

export function isLockMode(mode: string): mode is LockMode {
  return (LOCK_MODES as readonly string[]).includes(mode);
}

/** The stronger of two modes. */
export function strongest(a: LockMode, b: LockMode): LockMode {
  return LOCK_MODES.indexOf(a) >= LOCK_MODES.indexOf(b) ? a : b;
}
