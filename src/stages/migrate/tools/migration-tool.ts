// What a migration tool is to staging-refresh: either "replayed" (an adapter reads the tool's
// files and history and sends each migration as the tool would, so every statement is timed
// and its locks observed) or "runs itself" (the tool's own code or CLI runs on the new database
// while it is observed). The registry (registry.ts) lists them; config, CLI, plan, lint and
// migrate are derived from it.
import type pg from 'pg';
import type { MigrationsConfig, ProductionConfig } from '../../../config/schema.js';
import type { RefreshError } from '../../../errors.js';
import type { PgTarget } from '../../../infra/pg/connection.js';
import type { Logger } from '../../../log/logger.js';
import type { MigrationRecord, RehearsalRecord } from '../../../record/run-record.js';
import type { ParsedStatement } from '../../../sql/parse-sql.js';
import type { MigrationAdapter, MigrationPlan } from '../adapters/adapter.js';
import type { ExecutionMode } from '../transaction-control.js';

/** What the migrate step gets. */
export interface MigrateInput {
  config: MigrationsConfig;
  target: PgTarget;
  workDir: string;
  log: Logger;
  signal: AbortSignal;
  /** #22: production's hardware, for estimates. */
  production?: ProductionConfig | undefined;
  /** #22: the control database and this target's history key, for calibrated estimates. */
  history?: { control: PgTarget; target: string } | undefined;
  /** #22: production's session settings for a tool that opens its own connections (set by migrate). */
  pgOptions?: string | undefined;
}

/** What the migrate step returns: a record per migration, notes, and the failure if one failed. */
export interface MigrateResult {
  migrations: MigrationRecord[];
  notes: string[];
  failure?: RefreshError;
  /** #22: the staging server and the conditions of every timing. */
  rehearsal?: RehearsalRecord;
}

/** One migration as `lint` sees it: its SQL and how the tool would send it. */
export interface LintSource {
  file: string;
  name: string;
  sql: string;
  /** How the tool would send it, given its parsed statements. */
  mode(statements: readonly ParsedStatement[]): ExecutionMode;
}

/** The settings `lint` needs (the CLI has no config file: defaults apply). */
export type LintConfig = Partial<Pick<MigrationsConfig, 'historyTable' | 'versionColumn' | 'flyway'>>;

interface ToolBase<Name extends string> {
  /** The `migrations.tool` value. */
  readonly name: Name;
  /** One line for help texts: the files it reads. */
  readonly layout: string;
  /** The migrations in `dir` as the tool would run them, for the static lint. */
  lintSources(dir: string, config: LintConfig): Promise<LintSource[]>;
}

/** A tool whose migrations staging-refresh replays through an adapter. */
export interface ReplayedTool<Name extends string = string> extends ToolBase<Name> {
  readonly kind: 'replayed';
  adapter(config: MigrationsConfig): MigrationAdapter;
}

/** A tool that runs its own migrations on the new database while it is observed. */
export interface SelfRunningTool<Name extends string = string> extends ToolBase<Name> {
  readonly kind: 'runs-itself';
  run(input: MigrateInput): Promise<MigrateResult>;
  /** The pending set on a database (for `plan`), when the tool can tell without running. */
  pending(client: pg.Client, dir: string | undefined, config: MigrationsConfig): Promise<MigrationPlan>;
}

/** A registry entry. */
export type MigrationTool = ReplayedTool | SelfRunningTool;

/** The lint sources of a replayed tool: its adapter's files, each sent as the adapter sends it. */
export async function adapterLintSources(adapter: MigrationAdapter, dir: string): Promise<LintSource[]> {
  return (await adapter.discover(dir)).map((file) => ({
    file: file.file,
    name: file.name,
    sql: file.sql,
    mode: (statements) => adapter.execution(file, statements),
  }));
}
