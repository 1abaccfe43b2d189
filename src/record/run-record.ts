// The run record: the product's public output (DESIGN.md). Names here are an interface that
// people's scripts read: add fields freely, never rename or remove one.

export const RUN_RECORD_SCHEMA_VERSION = 1;

export type RunOutcome = 'succeeded' | 'failed' | 'aborted' | 'refused';
export type StepName =
  | 'guard'
  | 'locate'
  | 'fetch'
  | 'inspect'
  | 'restore'
  | 'migrate'
  | 'verify'
  | 'swap'
  | 'report';
export type StepStatus = 'succeeded' | 'failed' | 'skipped' | 'aborted';

export interface StepRecord {
  name: StepName;
  status: StepStatus;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

export interface BackupRecord {
  key: string;
  bytes: number;
  format: 'custom' | 'tar' | 'directory' | 'plain' | 'unknown';
  /** Set when the backup was compressed as a whole (e.g. `.sql.gz`, `.tar.gz`). */
  compression?: 'gzip';
  lastModified: string;
  /** Age of the backup when the run started. */
  ageMs: number;
  source: 'local' | 's3';
  /** pg_dump version that wrote the archive, when the archive says. */
  dumpVersion?: string;
  /** Server version the archive was dumped from. */
  serverVersion?: string;
  etag?: string;
  /** How the S3 download went. */
  download?: BackupDownloadRecord;
}

/** How a fetched backup reached the work dir. */
export interface BackupDownloadRecord {
  path: string;
  reused: boolean;
  verifiedBy: 'sha256' | 'etag-md5' | 'size';
  durationMs: number;
  bytesPerSecond: number;
  retries: number;
}

export interface RestoredTable {
  name: string;
  rows: number;
  bytes: number;
}

export interface ClientToolsRecord {
  /** pg_restore's version, e.g. "15.18". */
  version: string;
  /** Their directory; absent when they were found on PATH. */
  dir?: string;
  /** The staging server's version. */
  serverVersion: string;
  /** Why these of those installed: e.g. "the staging server's major (15)". */
  reason: string;
  /** Every pg_restore version found (PG_BIN alone when it is set), newest first. */
  installed: string[];
}

/** CREATE DATABASE text options (encoding, locale_provider, locale, lc_collate, lc_ctype, icu_locale…). */
export type DatabaseTextOptions = Partial<Record<string, string>>;

export interface DatabaseOptionsRecord {
  /** What production's database was created with (the archive's DATABASE entry). */
  production: DatabaseTextOptions;
  /** What `__next` was created with, read back from pg_database. */
  staging: DatabaseTextOptions;
  /** Set when staging could not be created like production: what differs and what to do. */
  difference?: string;
}

/** A setting of production's database (ALTER DATABASE / ALTER ROLE … IN DATABASE … SET) on staging. */
export interface DatabaseSettingRecord {
  /** Set for a role's setting in that database. */
  role?: string;
  name: string;
  /** Its value as SQL; absent for a custom setting, which may hold a secret. */
  value?: string;
  applied: boolean;
  /** Why it was not applied. */
  note?: string;
}

export interface RestoreRecord {
  database: string;
  /** Production's database settings and whether each was applied to staging (absent when it had none). */
  databaseSettings?: DatabaseSettingRecord[];
  /** Production's encoding and locale, and the staging database's (absent for a plain dump). */
  databaseOptions?: DatabaseOptionsRecord;
  tables: RestoredTable[];
  sections: { name: string; durationMs: number }[];
  bytes: number;
  /** Rows are pg_class.reltuples after ANALYZE: exact for small tables, a close estimate for big ones. */
  rowsSource: 'analyze';
  /**
   * Indexes and keys built while other tables were still loading (each table's as soon as its rows
   * were in): inside the data section's time. The post-data section builds the rest.
   */
  earlyIndexes?: { tables: number; entries: number; durationMs: number };
}

export interface AnonymizeRecord {
  tables: {
    name: string;
    rows: number;
    rowsPerSecond: number;
    /** Helper threads that masked part of the table besides its stream's own (a big table on several cores). */
    helpers?: number;
    /**
     * Rows whose masked value in a column kept unique was changed after the load (re-keyed): an
     * earlier row had the same output (two originals the rule maps alike, `Ann@x` and `ann@x`).
     */
    rekeyed?: number;
    /**
     * Who read its rows from the backup: this process, straight from a custom archive's data block
     * or a directory archive's data file, or pg_restore (tar archives, compressions other than
     * gzip, an archive without data offsets, STAGING_REFRESH_ARCHIVE_READER=pg_restore).
     */
    readBy?: 'archive' | 'pg_restore';
  }[];
  findings: {
    rule: string;
    severity: 'error' | 'warning';
    column: string;
    message: string;
    /** A starter rule for the column, as YAML (what `plan --write-rules` writes). */
    suggest?: string;
  }[];
  /** Large objects in the backup and what became of them (anonymize.largeObjects). */
  largeObjects?: { count: number; action: 'dropped' | 'kept' };
  /**
   * Optimizer statistics in the backup (pg_dump 18 --statistics): `entries`, its STATISTICS DATA
   * entries, one per table, index or materialized view (in a plain dump, its
   * pg_restore_relation_stats calls, one an entry). Never restored: a column's most common values
   * and histogram bounds are production's values; the ANALYZE after the restore computes staging's.
   */
  statistics?: { entries: number; action: 'not-restored' };
  /** Why pg_restore, not this process, read every masked table's rows (see `tables[].readBy`). */
  pgRestoreReads?: string;
}

export interface StatementRecord {
  sql: string;
  line: number;
  durationMs: number;
  /** Time the server spent on it (pg_stat_activity state_change − query_start): durationMs minus the round trip. */
  serverMs?: number;
  /** Rows the statement reported (UPDATE 42 → 42), when it reports any. */
  rows?: number | null;
  /** Whether it ran inside the migration's transaction. */
  inTransaction?: boolean;
  error?: MigrationErrorRecord;
}

export interface LockRecord {
  relation: string;
  mode: string;
  heldMs: number;
  /** Milliseconds after the migration started that the lock was first seen. */
  acquiredAtMs?: number;
  /** relkind from pg_class: r table, i index, S sequence, … */
  kind?: string;
  /** Time the migration waited for this lock before it was granted. */
  waitedMs?: number;
  /** Operations this lock mode blocks, from PostgreSQL's lock conflict table. */
  blocks?: string[];
  /** For an index: the table it belongs to (a lock on an index blocks reads/writes that plan with it). */
  table?: string;
  /** Index (0-based) of the statement during which it was first seen. */
  statement?: number;
  /**
   * How it is known: sampled from pg_locks (default), or 'documented' — held for less than one
   * sampling interval, so taken from the statement's documented lock and the statement's duration.
   */
  source?: 'sampled' | 'documented';
}

export interface BlockingRecord {
  relation: string;
  readsBlockedMs: number;
  writesBlockedMs: number;
  longestWriteBlockMs: number;
  longestReadBlockMs: number;
  /** Row probe: SELECT … FOR NO KEY UPDATE of a few rows spread over the table (what an UPDATE of them waits for). */
  rowUpdatesBlockedMs?: number;
  longestRowUpdateBlockMs?: number;
  probes?: { reads: number; writes: number; rows?: number };
  /** 'matview': only reads are probed (nothing writes to a materialized view). */
  kind?: 'matview';
}

/** Waits of other sessions on the migration's transaction id (row locks) seen in pg_locks. */
export interface TransactionWaitRecord {
  /** Time during which at least one other session waited on the migration's transaction. */
  waitedMs: number;
  /** Most sessions seen waiting at once. */
  maxWaiters: number;
}

export interface LintRecord {
  rule: string;
  severity: 'error' | 'warning' | 'info';
  line: number;
  message: string;
  /** The safer way to write it. */
  fix?: string;
  /** What it cost in this run, joined from the measurements. */
  measured?: string;
}

export interface RollbackRecord {
  status: 'missing' | 'present' | 'rehearsed' | 'failed' | 'not-supported';
  durationMs: number;
  file?: string;
  error?: string;
  /** With rollback: rehearse, the down migration's own locks and measured blocking. */
  locks?: LockRecord[];
  blocking?: BlockingRecord[];
}

export interface ProgressPhaseRecord {
  command: string;
  relation: string;
  phase: string;
  durationMs: number;
  /** Highest completion fraction seen (0..1) when the view reports one. */
  done?: number;
}

export interface RelationSizeRecord {
  relation: string;
  rowsBefore: number | null;
  rowsAfter: number | null;
  bytesBefore: number | null;
  bytesAfter: number | null;
}

export interface MigrationErrorRecord {
  message: string;
  sqlstate?: string;
  line?: number;
  position?: number;
  statement?: string;
  /** For a cancelled statement: how far it got, from pg_stat_progress_* (e.g. "CREATE INDEX public.orders: building index: scanning table 43%"). */
  reached?: string;
}

export interface MigrationRecord {
  name: string;
  status: 'applied' | 'failed' | 'skipped';
  durationMs: number;
  file?: string;
  transactional?: boolean;
  statements: StatementRecord[];
  locks: LockRecord[];
  blocking: BlockingRecord[];
  lint: LintRecord[];
  rollback: RollbackRecord;
  monitoringQueries: string[];
  verdict: 'safe' | 'review' | 'dangerous';
  why: string;
  progress?: ProgressPhaseRecord[];
  relations?: RelationSizeRecord[];
  error?: MigrationErrorRecord;
  skippedBecause?: string;
  /** What the replay could not know of the real tool's behaviour for this migration. */
  caveat?: string;
  /** Sessions waiting on the migration's transaction id (row locks), from pg_locks. */
  transactionWaits?: TransactionWaitRecord;
  /** The conditions this timing was taken with: session settings, cache state, traffic. */
  takenWith?: TakenWithRecord;
  /** What the synthetic traffic saw (migrations.traffic): the lock queue production would see. */
  traffic?: TrafficRecord;
  /** The production estimate next to the staging figure, and how it was made. */
  production?: ProductionEstimateRecord;
}

/** One setting the migration ran with, as the server reported it on the migration's own session. */
export interface SettingRecord {
  name: string;
  /** The value in effect (current_setting on the migration connection), or the one requested when not applied. */
  value: string;
  /** What migrations.settings asked for, when it did. */
  requested?: string;
  /** session: SET on the migration connection; PGOPTIONS: passed to a tool's own connection; evaluated: measured against, not applied; server: staging's own value. */
  via: 'session' | 'PGOPTIONS' | 'evaluated' | 'server';
}

/** Conditions of one timing (#22). */
export interface TakenWithRecord {
  settings: SettingRecord[];
  /** Settings staging could not honour, each with why (never silently capped). */
  unhonoured: string[];
  cache: CacheStateRecord;
  traffic: boolean;
  /** How the settings reached the migration when the tool opened its own connection, and what that cannot promise. */
  note?: string;
}

/** The cache state before a migration: what was warmed and how much of each table was in shared_buffers. */
export interface CacheStateRecord {
  mode: 'warm' | 'cold' | 'asis';
  /** How tables were warmed: pg_prewarm into shared_buffers, or a sequential read (the OS cache). */
  method?: 'pg_prewarm' | 'read';
  tables: { relation: string; bytes: number; warmedMs?: number; cachedPct?: number }[];
  note?: string;
}

/** The lock queue under synthetic traffic during one migration. */
export interface TrafficRecord {
  tables: string[];
  ratePerSecond: { reads: number; writes: number };
  /** The read transaction opened before the migration, and how long it was held. */
  longTransactionMs: number;
  /** How long the migration waited for a lock (pg_locks granted = false), and behind whom. */
  lockWaitMs: number;
  waitedBehindLongTransaction: boolean;
  /** Operations that waited behind the migration's lock (pg_blocking_pids named it), per kind. */
  queued: { reads: number; writes: number };
  /** Most operations waiting at once (the connection-pool cliff when it reaches the pool size). */
  peakQueued: { reads: number; writes: number };
  /** Operations that found every pooled connection busy. */
  noConnection: number;
  completed: { reads: number; writes: number };
  /** Longest an operation took, in ms. */
  worstLatencyMs: { reads: number; writes: number };
  /** What the application's lock_timeout (migrations.settings.lock_timeout) would have done. */
  lockTimeout?: { ms: number; wouldFail: boolean; message: string };
}

/** A production estimate for a staging timing. */
export interface ProductionEstimateRecord {
  durationMs: number;
  basis: 'calibration' | 'hardware' | 'staging';
  how: string;
}

/** The staging server every timing was taken on (#22). */
export interface StagingServerRecord {
  version: string;
  /** CPUs as the server sees them (/proc/cpuinfo read by the server), null when it cannot say. */
  cpus: number | null;
  memoryBytes: number | null;
  /** Where cpus/memory came from. */
  source: string;
  /** Settings that change migration cost, as staging has them. */
  settings: Record<string, string>;
}

/** The rehearsal conditions of a run: the staging server, production's settings and hardware. */
export interface RehearsalRecord {
  server: StagingServerRecord;
  settings: SettingRecord[];
  unhonoured: string[];
  cache: 'warm' | 'cold' | 'asis';
  traffic: boolean;
  production?: {
    hardware?: { cpus?: number; memoryGb?: number; speedFactor?: number };
    calibration?: { factor: number; samples: number };
  };
}

export interface VerifyCheckRecord {
  name: string;
  status: 'passed' | 'failed';
  message: string;
}

/** An object of the backup that could reach outside staging, and what the run did about it. */
export interface NeutralizedRecord {
  kind:
    | 'foreign-server'
    | 'user-mapping'
    | 'foreign-table'
    | 'event-trigger'
    | 'subscription'
    | 'publication'
    | 'cron-job'
    | 'function'
    | 'view'
    | 'materialized-view';
  /** The object's name (schema-qualified where it has a schema; `user@server` for a user mapping). */
  name: string;
  /**
   * not-restored: left out of the restore; options-removed: kept without its connection options;
   * disabled / dropped / unscheduled; body-replaced: a function whose new body raises;
   * definition-replaced: a view that now raises when read; not-refreshed: a materialized view
   * left unpopulated (its REFRESH would have connected out);
   * unreachable: reaches out only through a neutralized server; kept: deliberately left as it was
   * (`neutralize.keep`); reported: found but could not be changed (see detail).
   */
  action:
    | 'not-restored'
    | 'options-removed'
    | 'disabled'
    | 'dropped'
    | 'unscheduled'
    | 'body-replaced'
    | 'definition-replaced'
    | 'not-refreshed'
    | 'unreachable'
    | 'kept'
    | 'reported';
  /** What it was and why it matters; never an option's value (it may hold a password). */
  detail: string;
}

export interface RunErrorRecord {
  code: string;
  message: string;
  step: string | undefined;
  hint?: string;
}

export interface RunRecord {
  schemaVersion: number;
  runId: string;
  outcome: RunOutcome;
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  host: string;
  toolVersion: string;
  target: { server: string; database: string };
  steps: StepRecord[];
  backup?: BackupRecord;
  /** The PostgreSQL client tools the restore ran with, and why those (absent before inspect). */
  clientTools?: ClientToolsRecord;
  restore?: RestoreRecord;
  anonymize?: AnonymizeRecord;
  /** Links out of staging found in the backup and what was done about each (absent before the restore). */
  neutralized?: NeutralizedRecord[];
  migrations: MigrationRecord[];
  migrationNotes?: string[];
  /** The staging server and the conditions the migrations were timed under (#22). */
  rehearsal?: RehearsalRecord;
  verify: { checks: VerifyCheckRecord[] };
  swap?: {
    live: string;
    previous: string | null;
    dropped: string[];
    /** People's sessions (client backends) on the live database ended for the swap; an autovacuum worker there is ended too, not counted. */
    terminatedSessions: number;
    durationMs: number;
    /** The renames committed (staging was replaced) but the grants failed with this message. */
    grantsError?: string;
  };
  error?: RunErrorRecord;
  warnings: string[];
  /** Week over week, from the run history in the control database (absent without history). */
  trends?: Trends;
  /** What the tool itself used: peak resident memory (the process, not pg_restore) and CPU time. */
  resources?: { peakRssBytes: number; cpuUserMs: number; cpuSystemMs: number };
  /** Set when this run found and cleaned up after an earlier run that crashed. */
  recovered?: { runId: string; startedAt: string; host: string; phase?: string };
  /** Where the report went: the HTML page, and the e-mail (recipients and subject, or the send error). */
  report?: {
    html?: string;
    email?: { to: string[]; subject: string; sent?: boolean; attempts?: number; error?: string };
  };
}

/** Trends against earlier runs of the same target. */
export interface Trends {
  comparedWith: { previousRunId: string; runs: number };
  /** This run and the earlier ones compared, oldest first (for charts). */
  series: { runId: string; startedAt: string; totalMs: number; restoreMs: number; migrateMs: number }[];
  /** Each step against the previous run and the median of the last 8. */
  steps: {
    name: string;
    durationMs: number;
    previousMs: number | null;
    medianMs: number | null;
    changePct: number | null;
  }[];
  /** The tables that grew most since the previous run. */
  tables: {
    name: string;
    bytes: number;
    previousBytes: number;
    growthBytes: number;
    growthPct: number | null;
  }[];
  /** Migrations that were pending (and applied) last time too, with their change. */
  migrations: { name: string; durationMs: number; previousMs: number; changePct: number | null }[];
  /** Restore time per week from a least-squares line over the history, and what it predicts. */
  restoreProjection?: { perWeekMs: number; in4WeeksMs: number; in12WeeksMs: number };
}
