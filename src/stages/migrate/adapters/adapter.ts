// What every migration tool adapter provides: the tool's file layout and order, its history
// table (read and written exactly as the tool does), and whether it wraps a migration in a
// transaction.
import type pg from 'pg';
import type { MigrationErrorRecord } from '../../../record/run-record.js';
import type { ParsedStatement } from '../../../sql/parse-sql.js';
import type { ExecutionMode } from '../transaction-control.js';

/** One migration as the tool sees it on disk. */
export interface MigrationFile {
  /** What the history table stores (version, or name for Prisma). */
  id: string;
  /** Display name: the file or folder stem. */
  name: string;
  /** Path of the "up" SQL. */
  file: string;
  sql: string;
  /** Path of the "down" SQL, when the tool has one and it exists. */
  downFile?: string;
  kind: 'versioned' | 'repeatable';
}

/** The pending set and what the tool itself would say about the history. */
export interface MigrationPlan {
  pending: MigrationFile[];
  /** Migrations the tool would not run, with the reason (out of order, …). */
  skipped: { file: MigrationFile; reason: string }[];
  /** Things worth telling that do not stop the deploy. */
  notes: string[];
  /** Things that make the tool refuse to migrate at all (dirty state, checksum mismatch). */
  blockers: string[];
}

/** How the tool executes one migration. */
export interface MigrationAdapter {
  readonly tool: string;
  /** The tool's own name for the absence of down migrations, when it has none. */
  readonly supportsDown: boolean;
  /** Migration files in the tool's order. */
  discover(dir: string): Promise<MigrationFile[]>;
  /** Reads the history table (created empty, as the tool would, when missing) and decides what is pending. */
  plan(client: pg.Client, files: readonly MigrationFile[]): Promise<MigrationPlan>;
  /** How the tool sends this migration to PostgreSQL (its transaction, or none, or one message). */
  execution(file: MigrationFile, statements: readonly ParsedStatement[]): ExecutionMode;
  /** Why the tool would refuse this file before running any of it (Flyway's mixed=false), if it would. */
  refuses?(file: MigrationFile, statements: readonly ParsedStatement[]): MigrationErrorRecord | undefined;
  /** What the replay cannot know of the tool's behaviour for this file (said in the record). */
  caveat?(file: MigrationFile, statements: readonly ParsedStatement[]): string | undefined;
  /** Whether the history row is written inside the migration's transaction (else after it). */
  readonly historyInTransaction: boolean;
  /** Written before the migration runs (golang-migrate's dirty flag, Prisma's started row). */
  before?(client: pg.Client, file: MigrationFile): Promise<void>;
  /** Writes the history as the tool does after success. */
  recordSuccess(client: pg.Client, file: MigrationFile, durationMs: number): Promise<void>;
  /** Writes the history as the tool does after a failure (Prisma's logs, Flyway's success=false row). */
  recordFailure?(
    client: pg.Client,
    file: MigrationFile,
    failure: { message: string; mode: ExecutionMode; durationMs: number },
  ): Promise<void>;
}
