// The config file's schema: every key of DESIGN.md's example, strict (an unknown key is an
// error, so a typo never silently turns a feature off), with defaults.
import { z } from 'zod';
import { columnRuleSchema } from '../anonymize/strategies/registry.js';
import { durationSchema } from '../format/duration-schema.js';
import { MIGRATION_TOOL_NAMES } from './migration-tool-names.js';

const duration = durationSchema;

const postgresUrl = z.string().refine((text) => /^postgres(ql)?:\/\//.test(text), {
  message: 'expected a postgres://user@host:port/db URL',
});

const s3Source = z.strictObject({
  bucket: z.string().min(1),
  prefix: z.string().default(''),
  keyPattern: z
    .string()
    .default('\\.(dump|backup|tar|tar\\.gz|tgz|sql|sql\\.gz)$')
    .refine(isRegExp, { message: 'expected a valid regular expression' }),
  region: z.string().default('us-east-1'),
  endpoint: z.string().url().optional(),
  forcePathStyle: z.boolean().default(false),
  partSize: z
    .number()
    .int()
    .min(5 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Connecting to the endpoint may take this long (each attempt). */
  connectTimeout: duration.default(10_000),
  /** A request may wait this long for its first byte, or a body stall this long, before it is retried. */
  idleTimeout: duration.default(30_000),
  /** Attempts for listing and HEAD requests (ranged GETs retry per part on their own). */
  attempts: z.number().int().min(1).max(10).default(3),
});

const localSource = z.strictObject({ path: z.string().min(1) });

/**
 * Exactly one backend, named by its key (`s3:` or `local:`): a union told apart by which key is
 * present. A new backend (sources/<name>/) adds one entry here and one line in create-source.ts.
 */
const backends = { s3: s3Source, local: localSource } as const;
const maxAge = duration.prefault('8d');
const source = z
  .strictObject({ s3: s3Source.optional(), local: localSource.optional(), maxAge })
  .refine(
    (value) =>
      Object.keys(backends).filter((key) => key in value && value[key as keyof typeof backends] !== undefined)
        .length === 1,
    {
      message: `expected exactly one of ${Object.keys(backends)
        .map((key) => `source.${key}`)
        .join(' or ')}`,
    },
  )
  .transform((value) => value as SourceConfig);

/** The parsed `source`: one backend and the age limit. */
export type SourceConfig =
  | { s3: z.output<typeof s3Source>; local?: undefined; maxAge: number }
  | { local: z.output<typeof localSource>; s3?: undefined; maxAge: number };

const grant = z.strictObject({ role: z.string().min(1), access: z.enum(['read', 'write']).default('read') });

const target = z.strictObject({
  url: postgresUrl,
  allow: z.array(z.string().min(1)).min(1, 'list at least one host:port/db the tool may replace'),
  keepPrevious: z.number().int().min(0).max(5).default(1),
  jobs: z.number().int().min(1).max(64).default(2),
  owner: z.string().min(1).optional(),
  grants: z.array(grant).default([]),
  swapGrace: duration.prefault('10s'),
  maintenanceDb: z.string().default('postgres'),
});

/** A column rule as the strategies get it (derived from the strategy registry). */
export type { ColumnRule } from '../anonymize/strategies/registry.js';

const anonymize = z.strictObject({
  secret: z.string().optional(),
  unknownPii: z.enum(['fail', 'warn']).default('fail'),
  /** Rows read per table to find PII by content (0: by column name only). */
  sampleRows: z.number().int().min(0).max(100000).default(100),
  keep: z.array(z.string()).default([]),
  domain: z.string().default('example.invalid'),
  /** Large objects (their contents cannot be masked): drop them, or keep them deliberately. */
  largeObjects: z.enum(['drop', 'keep']).optional(),
  tables: z
    .record(z.string(), z.union([z.literal('truncate'), z.record(z.string(), columnRuleSchema)]))
    .default({}),
});

/** A PostgreSQL setting name (GUC): letters, digits, underscores, an optional "extension." prefix. */
const settingName = z
  .string()
  .regex(
    /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/i,
    'expected a PostgreSQL setting name like maintenance_work_mem',
  );

const traffic = z.strictObject({
  /** Reads per second (SELECT … LIMIT 1) on each touched table. */
  reads: z.number().min(0).max(1000).default(20),
  /** Writes per second (a DELETE … WHERE false: the lock a write takes, no row changed) on each touched table. */
  writes: z.number().min(0).max(1000).default(10),
  /** The application's connection pool: operations beyond it find no connection. */
  connections: z.number().int().min(1).max(100).default(20),
  /** A read transaction opened before the migration and held this long (0: none). */
  longTransaction: duration.prefault('5s'),
});

const migrations = z
  .strictObject({
    tool: z.enum(MIGRATION_TOOL_NAMES).default('sql'),
    dir: z.string().optional(),
    git: z
      .strictObject({
        url: z.string().min(1),
        ref: z.string().default('main'),
        path: z.string().default('.'),
      })
      .optional(),
    command: z.array(z.string()).min(1).optional(),
    historyTable: z.string().optional(),
    /** sql: the history table's column holding the version (a team runner's own table). */
    versionColumn: z.string().min(1).default('version'),
    /** flyway: the settings of flyway.conf that change what migrate does. */
    flyway: z
      .strictObject({
        mixed: z.boolean().default(false),
        outOfOrder: z.boolean().default(false),
        ignoreMigrationPatterns: z
          .array(z.string().regex(/^(\*|versioned|repeatable):(\*|missing|pending|ignored|future|failed)$/i))
          .default(['*:future']),
      })
      .prefault({}),
    rollback: z.enum(['off', 'check', 'rehearse']).default('check'),
    statementTimeout: duration.optional(),
    budget: duration.optional(),
    swapOnFailure: z.boolean().default(false),
    observer: z
      .strictObject({
        interval: duration.prefault('100ms'),
        probes: z.boolean().default(true),
        probeInterval: duration.prefault('50ms'),
        probeLockTimeout: duration.prefault('50ms'),
        maxProbedTables: z.number().int().min(0).default(8),
        /** Rows per table the row probe locks (rolled back), spread over the table; 0: no row probe. */
        probeRows: z.number().int().min(0).max(50).default(5),
      })
      .prefault({}),
    /** Blocking at or above this is "dangerous"; any blocking below it is "review". */
    dangerousBlocking: duration.prefault('1s'),
    lint: z
      .strictObject({
        failOn: z.enum(['error', 'warning', 'never']).default('error'),
        disable: z.array(z.string()).default([]),
      })
      .prefault({}),
    /** Production's settings that change migration cost, applied on the migration connection (#22). */
    settings: z.record(settingName, z.union([z.string().min(1), z.number(), z.boolean()])).default({}),
    /** Cache state before each migration: warm its tables, leave them as they are, or cold (measured, not warmed). */
    cache: z.enum(['warm', 'cold', 'asis']).default('asis'),
    /** Synthetic traffic on the touched tables during each migration: the lock queue production would see. */
    traffic: traffic.optional(),
  })
  .refine((value) => value.tool !== 'command' || (value.command?.length ?? 0) > 0, {
    message: 'tool: command needs migrations.command, e.g. [bundle, exec, rails, db:migrate]',
    path: ['command'],
  })
  .refine((value) => value.tool === 'command' || value.dir !== undefined || value.git !== undefined, {
    message: 'set migrations.dir or migrations.git',
    path: ['dir'],
  });

const email = z.strictObject({
  smtp: z.string().min(1),
  from: z.string().min(1),
  to: z.array(z.string().min(1)).min(1),
  onFailure: z.array(z.string().min(1)).optional(),
  /** SMTP login; usually `${SMTP_USER}` / `${SMTP_PASSWORD}`. */
  user: z.string().optional(),
  password: z.string().optional(),
});

const report = z.strictObject({ dir: z.string().default('./reports'), email: email.optional() });

const control = z.strictObject({ url: postgresUrl });

const schedule = z.strictObject({
  cron: z.string().min(1),
  timeZone: z.string().default('UTC'),
  /** `serve` HTTP listener. */
  listen: z.string().default('0.0.0.0:8080'),
  /** On SIGTERM while a refresh runs: abort it (exit soon) or let it finish first. */
  onShutdown: z.enum(['abort', 'finish']).default('abort'),
});

const metrics = z.strictObject({
  pushgateway: z.string().url().optional(),
  job: z.string().default('staging-refresh'),
});

const verify = z.strictObject({
  checks: z.array(z.strictObject({ name: z.string().min(1), sql: z.string().min(1) })).default([]),
});

const neutralizeKeep = z.strictObject({
  kind: z.enum(['foreign-server', 'event-trigger', 'subscription', 'cron-job', 'function', 'view']),
  name: z.string().min(1),
  reason: z.string().min(1, 'say why this object may reach outside staging'),
});

const neutralize = z.strictObject({ keep: z.array(neutralizeKeep).default([]) });

/** The whole config file. */
export const configSchema = z.strictObject({
  source,
  workDir: z.string().min(1),
  target,
  production: z
    .strictObject({
      hosts: z.array(z.string()).default([]),
      /** Production's server, for estimates next to the staging timings (#22). */
      hardware: z
        .strictObject({
          cpus: z.number().int().min(1).optional(),
          memoryGb: z.number().positive().optional(),
          /** How many times faster production runs a migration than staging (2: half the time). */
          speedFactor: z.number().positive().optional(),
        })
        .optional(),
    })
    .prefault({}),
  anonymize: anonymize.prefault({}),
  migrations: migrations.optional(),
  verify: verify.prefault({}),
  report: report.prefault({}),
  control: control.optional(),
  schedule: schedule.optional(),
  metrics: metrics.prefault({}),
  neutralize: neutralize.prefault({}),
});

/** Parsed, validated config with defaults filled and durations in milliseconds. */
export type Config = z.output<typeof configSchema>;
export type MigrationsConfig = NonNullable<Config['migrations']>;
export type ProductionConfig = Config['production'];
export type TrafficConfig = NonNullable<MigrationsConfig['traffic']>;
/** An object the backup holds that may reach outside staging and is kept deliberately. */
export type NeutralizeKeep = Config['neutralize']['keep'][number];

function isRegExp(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}
