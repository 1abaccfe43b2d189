import { describe, expect, it } from 'vitest';
import { LockTracker, type ObservedLock } from '../../src/observe/lock-tracker.js';

const orders = (mode: string, granted = true): ObservedLock => ({
  oid: 10,
  relation: 'public.orders',
  kind: 'r',
  mode,
  granted,
});

describe('LockTracker', () => {
  it('holds a lock from the statement start until the release', () => {
    const tracker = new LockTracker(1000);
    tracker.observe([orders('ShareLock')], 1150, 1010, 0);
    tracker.observe([orders('ShareLock')], 1250, 1010, 0);
    tracker.releaseAll(5010);
    expect(tracker.result(6000)).toEqual([
      {
        oid: 10,
        relation: 'public.orders',
        kind: 'r',
        table: null,
        mode: 'ShareLock',
        acquiredAtMs: 10,
        heldMs: 4000,
        waitedMs: 0,
        statement: 0,
      },
    ]);
  });

  it('bounds the acquisition by the previous observation, not the statement start', () => {
    const tracker = new LockTracker(0);
    tracker.observe([], 100, 0, 0);
    tracker.observe([], 200, 0, 0);
    tracker.observe([orders('AccessExclusiveLock')], 300, 0, 0);
    tracker.releaseAll(400);
    expect(tracker.result(400)[0]).toMatchObject({ acquiredAtMs: 200, heldMs: 200 });
  });

  it('closes a lock that disappears from a sample, and counts a second hold separately', () => {
    const tracker = new LockTracker(0);
    tracker.observe([orders('RowExclusiveLock')], 0, 0, 0);
    tracker.observe([], 100, 0, 0);
    tracker.observe([orders('RowExclusiveLock')], 500, 450, 1);
    tracker.releaseAll(600);
    expect(tracker.result(600)[0]).toMatchObject({ heldMs: 100 + 150 });
  });

  it('records waiting for a lock, then holding it from the earliest moment it can have been granted', () => {
    const tracker = new LockTracker(0);
    tracker.observe([orders('AccessExclusiveLock', false)], 100, 0, 0);
    tracker.observe([orders('AccessExclusiveLock', false)], 200, 0, 0);
    tracker.observe([orders('AccessExclusiveLock', true)], 900, 0, 0);
    tracker.releaseAll(1000);
    expect(tracker.result(1000)[0]).toMatchObject({ waitedMs: 200, heldMs: 800 });
  });

  it('ignores a sample that started before a release it returned after', () => {
    const tracker = new LockTracker(0);
    tracker.observe([orders('ShareLock')], 0, 0, 0);
    tracker.releaseAll(300);
    tracker.observe([orders('ShareLock')], 250, 0, 0);
    expect(tracker.result(5000)[0]).toMatchObject({ heldMs: 300 });
  });

  it('names relations that were invisible while uncommitted', () => {
    const tracker = new LockTracker(0);
    tracker.observe(
      [{ oid: 77, relation: null, kind: null, mode: 'AccessExclusiveLock', granted: true }],
      0,
      0,
      0,
    );
    expect(tracker.unnamedOids()).toEqual([77]);
    tracker.nameRelations(new Map([[77, { relation: 'public.audit', kind: 'r' }]]));
    tracker.releaseAll(10);
    expect(tracker.result(10)[0]).toMatchObject({ relation: 'public.audit', kind: 'r', heldMs: 10 });
  });
});
