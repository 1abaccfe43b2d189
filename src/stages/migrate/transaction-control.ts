// The transaction a tool's way of sending a migration puts around each statement, replayed on
// the migration connection statement by statement (so each one is timed and its locks seen).
// Whether a transaction is open is the server's own answer: the ReadyForQuery status of the
// last message (libpq's PQtransactionStatus), not a guess from the SQL text.
import type pg from 'pg';

/**
 * How a tool hands one migration file to PostgreSQL.
 * - `transaction`: BEGIN, the statements, COMMIT (Flyway by default, the `sql` tool); the
 *   history row inside when the tool writes it there.
 * - `autocommit`: each statement on its own (Flyway non-transactional, a `sql` file marked
 *   `-- staging-refresh:no-transaction`, files with their own BEGIN/COMMIT).
 * - `one-message`: the whole file as one simple-query message (Prisma's `simple_query`,
 *   golang-migrate's single `Exec`). PostgreSQL runs a message of several statements in one
 *   implicit transaction block; a COMMIT inside it commits what came before and the next
 *   statement opens a new block; a statement that refuses to run in a transaction block
 *   (CREATE INDEX CONCURRENTLY, VACUUM) fails in it; an error ends the message and rolls the
 *   open block back (postgres.c exec_simple_query, xact.c BeginImplicitTransactionBlock).
 */
export type ExecutionMode = 'transaction' | 'autocommit' | 'one-message';

/** Drives the transaction state around the statements of one migration. */
export class TransactionControl {
  constructor(
    private readonly client: pg.Client,
    private readonly mode: ExecutionMode,
    private readonly statementCount: number,
  ) {}

  /** True while the server says a transaction block is open (or failed and not yet ended). */
  get open(): boolean {
    const status = this.client.getTransactionStatus();
    return status === 'T' || status === 'E';
  }

  /** Before each statement: opens the transaction the tool's way of sending it would have open. */
  async beforeStatement(): Promise<void> {
    if (this.open) return;
    // A JDBC connection without autocommit (Flyway) begins again before the next statement
    // when one in the file committed; a message of several statements runs each one in the
    // implicit block, which a COMMIT in the file ends and the next statement begins again.
    if (this.mode === 'transaction' || (this.mode === 'one-message' && this.statementCount > 1))
      await this.client.query('BEGIN');
  }

  /** After the last statement or a failure: commits (ok) or rolls back whatever is still open. */
  async end(ok: boolean): Promise<void> {
    if (!this.open) return;
    await this.client.query(ok && this.client.getTransactionStatus() === 'T' ? 'COMMIT' : 'ROLLBACK');
  }
}

/** Whether the statements of a file run inside a transaction in `mode` (for the lint rules). */
export function runsInTransaction(mode: ExecutionMode, statementCount: number): boolean {
  return mode === 'transaction' || (mode === 'one-message' && statementCount > 1);
}
