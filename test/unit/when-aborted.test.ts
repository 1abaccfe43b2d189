import { describe, expect, it } from 'vitest';
import { whenAborted } from '../../src/infra/concurrency/when-aborted.js';

describe('whenAborted', () => {
  it('fires for a signal that aborted before the listener was added (a SIGTERM between two steps)', () => {
    const controller = new AbortController();
    controller.abort();
    let calls = 0;
    whenAborted(controller.signal, () => calls++);
    expect(calls).toBe(1);
  });

  it('fires once on a later abort, and not at all once undone', () => {
    const later = new AbortController();
    let calls = 0;
    whenAborted(later.signal, () => calls++);
    later.abort();
    later.abort();
    expect(calls).toBe(1);

    const undone = new AbortController();
    const undo = whenAborted(undone.signal, () => calls++);
    undo();
    undone.abort();
    expect(calls).toBe(1);
  });
});
