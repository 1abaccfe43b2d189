// plan: what a run would do now — which backup, its age and format, its tables, and the
// migrations live staging has not applied, with their times from earlier runs — changing nothing.

import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { peekArchive, prepareArchive } from '../dump/prepare-archive.js';
import { formatDuration } from '../format/duration.js';
import { ensureHistorySchema } from '../history/history-store.js';
import { workDirError } from '../infra/fs/work-dir-error.js';
import { parsePgUrl } from '../infra/pg/connection.js';
import { withClient } from '../infra/pg/with-client.js';
import { silentLogger } from '../log/logger.js';
import { checkBackupAge } from '../sources/check-age.js';
import { createSource } from '../sources/create-source.js';
import { loadParser } from '../sql/parse-sql.js';
import { guardTarget } from '../stages/guard/guard.js';
import { inspectArchive } from '../stages/inspect/inspect.js';
import { migrationsDir } from '../stages/migrate/migration-source.js';
import { migrationTool } from '../stages/migrate/tools/registry.js';
import { type AnonymizationPlan, planAnonymization } from './plan-anonymization.js';

export interface PendingMigration {
  name: string;
  /** Median duration in earlier runs (control database), when there are any. */
  estimatedMs?: number;
  estimatedVerdict?: string;
}

export interface Plan {
  target: string;
  backup: { key: string; bytes: number; age: string; format: string; dumpVersion?: string | undefined };
  tables: string[];
  /** The rules against the backup's columns (local backups). */
  anonymization?: AnonymizationPlan;
  /** Pending against live staging's history: what the next run replays, unless the backup says otherwise. */
  migrations?: { tool: string; pending: PendingMigration[]; notes: string[]; blockers: string[] };
}

/**
 * Builds the plan; throws the same errors a run would (guard, missing or stale backup). With
 * `unpack`, a local backup pg_restore cannot read in place (a directory dump packed as tar, a
 * gzipped archive) is unpacked into a scratch directory under the work dir, removed afterwards,
 * so its columns can be read (`plan --write-rules`).
 */
export async function buildPlan(
  config: Config,
  now = new Date(),
  options: { unpack?: boolean } = {},
): Promise<Plan> {
  const target = await guardTarget(config, parsePgUrl(config.target.url));
  const source = createSource(config.source);
  const backup = await source.locate();
  const ageMs = checkBackupAge(backup, config.source.maxAge, now);
  // Nothing is fetched for a plan: a local backup is read where it lies, an S3 one only when an
  // earlier run's verified download of this very object is in the work dir.
  const readable = await source.readable(backup, config.workDir);
  let peeked = readable ? await peekArchive(readable) : undefined;
  let scratch: string | undefined;
  try {
    if (readable && peeked && !peeked.readable && options.unpack) {
      scratch = await planScratchDir(config.workDir);
      const prepared = await prepareArchive(readable, scratch, silentLogger());
      peeked = {
        description: `${prepared.format}${prepared.compression ? ', gzipped' : ''} (unpacked by plan to read it)`,
        readable: prepared,
      };
    }
    return await planFor(config, target, { ...backup, label: source.label(backup) }, ageMs, peeked);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A fresh scratch directory for plan under the work dir; those of plans that were killed (older
 * than an hour: a plan that unpacks takes minutes) are removed first.
 */
async function planScratchDir(workDir: string): Promise<string> {
  try {
    await mkdir(workDir, { recursive: true });
    for (const entry of await readdir(workDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !entry.name.startsWith('plan-')) continue;
      const path = join(workDir, entry.name);
      if (Date.now() - (await stat(path)).mtimeMs > 3_600_000)
        await rm(path, { recursive: true, force: true });
    }
    return await mkdtemp(join(workDir, 'plan-'));
  } catch (error) {
    throw workDirError(error, workDir);
  }
}

async function planFor(
  config: Config,
  target: string,
  backup: { key: string; label: string; bytes: number },
  ageMs: number,
  peeked: Awaited<ReturnType<typeof peekArchive>> | undefined,
): Promise<Plan> {
  const inspected = peeked?.readable ? await inspectArchive(peeked.readable) : undefined;
  const plan: Plan = {
    target,
    backup: {
      key: backup.label,
      bytes: backup.bytes,
      age: formatDuration(ageMs),
      format: peeked?.description ?? formatFromKey(backup.key),
      dumpVersion: inspected?.toc.dumpVersion,
    },
    tables: inspected?.tables ?? [],
    anonymization: peeked
      ? await planAnonymization(config, peeked.readable, inspected?.toc.entries)
      : {
          problems: [],
          findings: [],
          sampledValues: false,
          note: 'not downloaded yet: a run checks the columns (plan reads an earlier verified download of the same object)',
        },
  };
  const migrations = await pendingMigrations(config);
  return migrations ? { ...plan, migrations } : plan;
}

/**
 * The migrations live staging has not applied, with estimates from history. The adapters create
 * a missing history table: here that happens in a transaction that is rolled back.
 */
export async function pendingMigrations(config: Config): Promise<Plan['migrations']> {
  const migrations = config.migrations;
  if (!migrations) return undefined;
  await loadParser();
  const tool = migrationTool(migrations.tool);
  const signal = new AbortController().signal;
  // A git checkout goes in a scratch directory of its own, removed when the plan has read it.
  const scratch = migrations.git ? await planScratchDir(config.workDir) : undefined;
  const readPending = async () => {
    const dir =
      tool.kind === 'replayed' || migrations.dir || migrations.git
        ? await migrationsDir(migrations, scratch ?? config.workDir, signal)
        : undefined;
    const files = tool.kind === 'replayed' && dir ? await tool.adapter(migrations).discover(dir) : [];
    return withClient(parsePgUrl(config.target.url), 'staging-refresh:plan', async (client) => {
      await client.query('BEGIN');
      try {
        return tool.kind === 'replayed'
          ? await tool.adapter(migrations).plan(client, files)
          : await tool.pending(client, dir, migrations);
      } finally {
        await client.query('ROLLBACK');
      }
    });
  };
  const plan = await readPending().finally(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });
  const estimates = new Map<string, { ms: number; verdict: string }>();
  if (config.control) {
    await withClient(parsePgUrl(config.control.url), 'staging-refresh:plan', async (client) => {
      await ensureHistorySchema(client);
      const result = await client.query<{ migration: string; ms: string; verdict: string }>(
        `SELECT migration, percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS ms, mode() WITHIN GROUP (ORDER BY verdict) AS verdict
           FROM staging_refresh.migration_timings WHERE status = 'applied' AND migration = ANY($1) GROUP BY migration`,
        [plan.pending.map((file) => file.name)],
      );
      for (const row of result.rows)
        estimates.set(row.migration, { ms: Number(row.ms), verdict: row.verdict });
    });
  }
  return {
    tool: tool.name,
    pending: plan.pending.map((file) => {
      const estimate = estimates.get(file.name);
      return {
        name: file.name,
        ...(estimate && { estimatedMs: Math.round(estimate.ms), estimatedVerdict: estimate.verdict }),
      };
    }),
    notes: plan.notes,
    blockers: plan.blockers,
  };
}

/** Tables shown in the terminal: a schema of thousands of partitions is a count, not a page of names (--json lists all). */
const SHOWN_TABLES = 20;

function listedTables(tables: readonly string[]): string {
  if (tables.length <= SHOWN_TABLES) return tables.join(', ');
  return `${tables.slice(0, SHOWN_TABLES).join(', ')} … and ${(tables.length - SHOWN_TABLES).toLocaleString('en')} more (--json lists every one)`;
}

/** Formats a plan for the terminal. */
export function formatPlan(plan: Plan): string {
  const lines = [
    `target   ${plan.target}`,
    `backup   ${plan.backup.key}`,
    `         ${plan.backup.bytes} bytes, ${plan.backup.age} old, ${plan.backup.format} format${plan.backup.dumpVersion ? `, pg_dump ${plan.backup.dumpVersion}` : ''}`,
    `tables   ${plan.tables.length}: ${listedTables(plan.tables)}`,
  ];
  const anon = plan.anonymization;
  if (anon) {
    if (anon.findings.length === 0 && anon.problems.length === 0) {
      lines.push(
        `pii      every column that looks like PII${anon.sampledValues ? ' (by name or sampled values)' : ' by name'} has a rule or a keep entry`,
      );
    } else {
      lines.push(
        `pii      ${anon.findings.length} column(s) look like PII and have no rule (suggested rule after →):`,
      );
      for (const f of anon.findings)
        lines.push(
          f.rule === 'large-objects'
            ? `         ${f.message}`
            : `         ${f.column}  ${f.rule === 'unknown-pii-values' ? 'by values' : 'by name'} → ${f.suggest ?? "'null'"}`,
        );
      for (const problem of anon.problems) lines.push(`         PROBLEM: ${problem}`);
    }
    if (anon.note) lines.push(`         (${anon.note})`);
  }
  if (plan.migrations) {
    lines.push(
      `pending  ${plan.migrations.pending.length} ${plan.migrations.tool} migration(s) not applied on live staging:`,
    );
    for (const m of plan.migrations.pending) {
      lines.push(
        `         ${m.name}${m.estimatedMs !== undefined ? `  ~${formatDuration(m.estimatedMs)} in earlier runs (${m.estimatedVerdict})` : '  (not measured yet)'}`,
      );
    }
    for (const blocker of plan.migrations.blockers) lines.push(`         BLOCKED: ${blocker}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The format a key's name suggests (the file itself is only read by a run). */
function formatFromKey(key: string): string {
  if (/\.(dump|backup|custom)$/.test(key)) return 'custom (by name)';
  if (/\.tar$/.test(key)) return 'tar or packed directory (by name)';
  if (/\.tar\.gz$|\.tgz$/.test(key)) return 'tar or packed directory, gzipped (by name)';
  if (/\.sql$/.test(key)) return 'plain SQL (by name)';
  if (/\.sql\.gz$/.test(key)) return 'plain SQL, gzipped (by name)';
  return 'unknown';
}
