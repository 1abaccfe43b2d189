import { describe, expect, it } from 'vitest';
import { ExitCode, isConnectionLoss, toRefreshError, UnavailableError } from '../../src/errors.js';

describe('connection loss, classified in one place', () => {
  it('recognises what pg and the server say when the connection is gone', () => {
    expect(isConnectionLoss('57P01', 'terminating connection due to administrator command')).toBe(true);
    expect(isConnectionLoss('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')).toBe(true);
    expect(isConnectionLoss(undefined, 'Connection terminated unexpectedly')).toBe(true);
    // node-pg, asked to run a query on a client whose socket already failed
    expect(
      isConnectionLoss(undefined, 'Client has encountered a connection error and is not queryable'),
    ).toBe(true);
    expect(isConnectionLoss('23505', 'duplicate key value violates unique constraint')).toBe(false);
    expect(isConnectionLoss(undefined, 'column "x" does not exist')).toBe(false);
  });

  it('a lost connection is exit 69; anything unknown is a failed run', () => {
    const lost = toRefreshError(new Error('Client has encountered a connection error and is not queryable'));
    expect(lost).toBeInstanceOf(UnavailableError);
    expect(lost.exitCode).toBe(ExitCode.unavailable);
    expect(toRefreshError(new Error('something else')).exitCode).toBe(ExitCode.runFailed);
  });
});
