import { describe, expect, it } from 'vitest';
import { bar, progressLine } from '../../src/log/progress-line.js';
import { ProgressTracker } from '../../src/observe/progress-tracker.js';

describe('progress for people watching', () => {
  it('ETA of a phase from its own rate; the log hears only of new phases', () => {
    const changes: string[] = [];
    const etas: (number | undefined)[] = [];
    const tracker = new ProgressTracker(
      (sample) => changes.push(sample.phase),
      (_sample, _fraction, eta) => etas.push(eta),
    );
    const sample = (phase: string, done: number) => ({
      command: 'CREATE INDEX',
      relation: 'orders',
      phase,
      done,
      total: 100,
    });
    tracker.observe([sample('scanning table', 10)], 0);
    tracker.observe([sample('scanning table', 25)], 1000);
    tracker.observe([sample('scanning table', 50)], 2000);
    tracker.observe([sample('loading tuples in tree', 0)], 2100);
    expect(changes).toEqual(['scanning table', 'loading tuples in tree']);
    expect(etas).toEqual([undefined, 3000, 2000, undefined]);
    expect(tracker.result().map((p) => [p.phase, p.durationMs, p.done])).toEqual([
      ['scanning table', 2000, 0.5],
      ['loading tuples in tree', 0, 0],
    ]);
  });

  it('draws a bar on a TTY, and nothing at all elsewhere', () => {
    expect(bar(0.5, 10)).toBe('█████░░░░░');
    expect(bar(2, 4)).toBe('████');
    const written: string[] = [];
    const tty = { isTTY: true, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream;
    const line = progressLine(tty);
    line.update('download 50%');
    line.update('download 51%'); // within 200 ms: skipped
    line.done();
    expect(written).toEqual(['\r\u001b[2K  download 50%', '\r\u001b[2K']);
    const piped: string[] = [];
    const pipe = { isTTY: false, write: (text: string) => piped.push(text) } as unknown as NodeJS.WriteStream;
    progressLine(pipe).update('x');
    expect(piped).toEqual([]);
  });
});
