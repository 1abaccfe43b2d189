// Flyway: V<version>__<description>.sql (versions compared part by part), R__<description>.sql
// repeatables (re-run when their checksum changes, after the versioned ones), U<version>__…
// undo files; history in flyway_schema_history with Flyway's CRC32 checksum and execution time.
// Flyway's validate refuses to migrate on a checksum mismatch, a pending migration older than
// the latest applied one (outOfOrder=false), or an applied migration whose file is gone (unless
// ignoreMigrationPatterns says so): those are blockers here too.
// Execution, as flyway-core DbMigrate.applyMigrations/doMigrateGroup do it: each migration in a
// transaction of its own with its history row inside it; a migration whose statements the
// PostgreSQL parser (flyway-database-postgresql PostgreSQLParser.detectCanExecuteInTransaction)
// finds non-transactional runs statement by statement without one; both kinds in one file fail
// before anything runs (Parser.addStatement, mixed=false). A failed transactional migration is
// rolled back without a history row; a failed non-transactional one gets a success=false row,
// and Flyway refuses the next migrate until `flyway repair`. A script config file
// (V1__x.sql.conf) with executeInTransaction=true|false overrides the parser's decision.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { ParsedStatement } from '../../../sql/parse-sql.js';
import type { MigrationAdapter, MigrationFile, MigrationPlan } from './adapter.js';
import { listFiles, readIfExists } from './files.js';

/** Flyway's settings that change what migrate does (flyway.conf names). */
export interface FlywaySettings {
  /** Allow transactional and non-transactional statements in one migration (default false). */
  mixed: boolean;
  /** Run pending migrations older than the latest applied one (default false: validate fails). */
  outOfOrder: boolean;
  /** `type:state` patterns validate ignores (default `*:future`). */
  ignoreMigrationPatterns: readonly string[];
}

const DEFAULT_SETTINGS: FlywaySettings = {
  mixed: false,
  outOfOrder: false,
  ignoreMigrationPatterns: ['*:future'],
};

/**
 * Whether Flyway's PostgreSQL parser marks a statement non-transactional: CREATE/DROP
 * DATABASE|TABLESPACE|SUBSCRIPTION, ALTER SYSTEM, CREATE [UNIQUE] INDEX CONCURRENTLY, DROP INDEX
 * CONCURRENTLY, REINDEX SCHEMA|DATABASE|SYSTEM, VACUUM, DISCARD ALL (ALTER TYPE … ADD VALUE only
 * before PostgreSQL 12). REINDEX INDEX|TABLE … CONCURRENTLY is not among them: Flyway runs it in
 * its transaction and PostgreSQL refuses it there.
 */
export function flywayNonTransactional(statement: ParsedStatement): boolean {
  const node = statement.node as {
    concurrent?: boolean;
    removeType?: string;
    kind?: string;
    target?: string;
    is_vacuumcmd?: boolean;
  };
  switch (statement.kind) {
    case 'IndexStmt':
      return node.concurrent === true;
    case 'DropStmt':
      return node.concurrent === true && node.removeType === 'OBJECT_INDEX';
    case 'ReindexStmt':
      return ['REINDEX_OBJECT_SCHEMA', 'REINDEX_OBJECT_DATABASE', 'REINDEX_OBJECT_SYSTEM'].includes(
        node.kind ?? '',
      );
    case 'VacuumStmt':
      return node.is_vacuumcmd === true;
    case 'DiscardStmt':
      return node.target === 'DISCARD_ALL';
    case 'CreatedbStmt':
    case 'DropdbStmt':
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
    case 'CreateSubscriptionStmt':
    case 'DropSubscriptionStmt':
    case 'AlterSystemStmt':
      return true;
    default:
      return false;
  }
}

/** Whether validate ignores a migration of `type` (versioned/repeatable) in `state` (missing, ignored, future, …). */
export function flywayIgnores(
  patterns: readonly string[],
  type: 'versioned' | 'repeatable',
  state: string,
): boolean {
  return patterns.some((pattern) => {
    const [patternType = '', patternState = ''] = pattern.toLowerCase().split(':');
    return (patternType === '*' || patternType === type) && (patternState === '*' || patternState === state);
  });
}

const VERSIONED = /^V([0-9._]+)__(.+)\.sql$/;
const REPEATABLE = /^R__(.+)\.sql$/;

/** Flyway's checksum: CRC32 over the file's lines, line breaks and BOM removed, as a signed int. */
export function flywayChecksum(text: string): number {
  const content = text.replace(/^\uFEFF/, '').replace(/\r\n|\r|\n/g, '');
  return crc32(Buffer.from(content, 'utf8')) | 0;
}

/** Flyway's version order: numeric, part by part ("1.10" > "1.9", "2" = "2.0"). */
export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(BigInt);
  const right = b.split('.').map(BigInt);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const l = left[index] ?? 0n;
    const r = right[index] ?? 0n;
    if (l !== r) return l < r ? -1 : 1;
  }
  return 0;
}

interface FlywayFile extends MigrationFile {
  description: string;
  checksum: number;
  script: string;
  /** `executeInTransaction` of the script's config file (`<script>.conf`), when it sets one. */
  executeInTransaction?: boolean;
}

/** The flyway_schema_history row Flyway writes after a migration ran (success) or failed outside a transaction. */
async function insertHistoryRow(
  client: import('pg').Client,
  file: MigrationFile,
  meta: FlywayFile | undefined,
  durationMs: number,
  success: boolean,
): Promise<void> {
  await client.query(
    `INSERT INTO flyway_schema_history
       (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
     SELECT coalesce(max(installed_rank), 0) + 1, $1, $2, 'SQL', $3, $4, current_user, $5, $6 FROM flyway_schema_history`,
    [
      file.kind === 'versioned' ? file.id : null,
      meta?.description ?? file.name,
      meta?.script ?? file.name,
      meta?.checksum ?? null,
      Math.round(durationMs),
      success,
    ],
  );
}

/** `executeInTransaction=true|false` of a Flyway script config file's text, if set. */
export function scriptExecuteInTransaction(conf: string | undefined): boolean | undefined {
  const match = conf && /^\s*executeInTransaction\s*=\s*(true|false)\s*$/im.exec(conf);
  return match ? match[1]?.toLowerCase() === 'true' : undefined;
}

/** The Flyway adapter (history in the connection's default schema). */
export function flywayAdapter(settings: Partial<FlywaySettings> = {}): MigrationAdapter {
  const { mixed, outOfOrder, ignoreMigrationPatterns } = { ...DEFAULT_SETTINGS, ...settings };
  const described = new Map<string, FlywayFile>();
  return {
    tool: 'flyway',
    supportsDown: true,
    historyInTransaction: true,

    async discover(dir) {
      const names = await listFiles(dir);
      const versioned: FlywayFile[] = [];
      const repeatable: FlywayFile[] = [];
      for (const name of names) {
        const v = VERSIONED.exec(name);
        const r = REPEATABLE.exec(name);
        if (!v && !r) continue;
        const sql = await readFile(join(dir, name), 'utf8');
        const executeInTransaction = scriptExecuteInTransaction(
          await readIfExists(join(dir, `${name}.conf`)),
        );
        const description = ((v ? v[2] : r?.[1]) ?? '').replace(/_/g, ' ');
        const version = v ? (v[1] as string).replace(/_/g, '.') : undefined;
        const undo = version
          ? names.find((other) => other.startsWith(`U${v?.[1]}__`) && other.endsWith('.sql'))
          : undefined;
        const file: FlywayFile = {
          id: version ?? `R:${description}`,
          name: name.replace(/\.sql$/, ''),
          file: join(dir, name),
          sql,
          kind: version ? 'versioned' : 'repeatable',
          description,
          checksum: flywayChecksum(sql),
          script: name,
          ...(undo && { downFile: join(dir, undo) }),
          ...(executeInTransaction !== undefined && { executeInTransaction }),
        };
        described.set(file.id, file);
        (version ? versioned : repeatable).push(file);
      }
      versioned.sort((a, b) => compareVersions(a.id, b.id));
      repeatable.sort((a, b) => a.description.localeCompare(b.description));
      return [...versioned, ...repeatable];
    },

    async plan(client, files) {
      await client.query(`CREATE TABLE IF NOT EXISTS flyway_schema_history (
        installed_rank integer NOT NULL CONSTRAINT flyway_schema_history_pk PRIMARY KEY,
        version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL,
        script varchar(1000) NOT NULL, checksum integer, installed_by varchar(100) NOT NULL,
        installed_on timestamp NOT NULL DEFAULT now(), execution_time integer NOT NULL, success boolean NOT NULL)`);
      await client.query(
        'CREATE INDEX IF NOT EXISTS flyway_schema_history_s_idx ON flyway_schema_history (success)',
      );
      const rows = (
        await client.query<{
          version: string | null;
          description: string;
          checksum: number | null;
          success: boolean;
        }>(
          'SELECT version, description, checksum, success FROM flyway_schema_history ORDER BY installed_rank',
        )
      ).rows;
      const plan: MigrationPlan = { pending: [], skipped: [], notes: [], blockers: [] };
      const failed = rows.find((row) => !row.success);
      if (failed)
        plan.blockers.push(
          `flyway_schema_history has a failed migration (${failed.version ?? failed.description}): run flyway repair first`,
        );
      const applied = new Map(
        rows.filter((row) => row.version !== null && row.success).map((row) => [row.version as string, row]),
      );
      const latest = [...applied.keys()].sort(compareVersions).at(-1);
      const repeatableChecksums = new Map<string, number | null>();
      for (const row of rows)
        if (row.version === null && row.success) repeatableChecksums.set(row.description, row.checksum);
      for (const file of files as FlywayFile[]) {
        if (file.kind === 'repeatable') {
          if (repeatableChecksums.get(file.description) !== file.checksum) plan.pending.push(file);
          continue;
        }
        const row = applied.get(file.id);
        if (row) {
          if (row.checksum !== file.checksum) {
            plan.blockers.push(
              `checksum mismatch for applied migration ${file.id}: history ${row.checksum}, file ${file.checksum} (flyway validate fails)`,
            );
          }
        } else if (latest !== undefined && compareVersions(file.id, latest) < 0 && !outOfOrder) {
          if (flywayIgnores(ignoreMigrationPatterns, 'versioned', 'ignored'))
            plan.skipped.push({
              file,
              reason: `older than the applied version ${latest}; ignored (ignoreMigrationPatterns)`,
            });
          else
            plan.blockers.push(
              `Detected resolved migration not applied to database: ${file.id} (older than the latest applied version ${latest}; flyway validate fails with outOfOrder=false)`,
            );
        } else {
          plan.pending.push(file);
        }
      }
      // Applied migrations whose file is gone: "future" when newer than every file, else "missing".
      const versions = (files as FlywayFile[])
        .filter((file) => file.kind === 'versioned')
        .map((file) => file.id);
      const newestFile = versions.sort(compareVersions).at(-1);
      for (const version of applied.keys()) {
        if (versions.includes(version)) continue;
        const state =
          newestFile === undefined || compareVersions(version, newestFile) > 0 ? 'future' : 'missing';
        if (flywayIgnores(ignoreMigrationPatterns, 'versioned', state)) {
          plan.notes.push(
            `applied migration ${version} has no file (${state}; ignored by ignoreMigrationPatterns)`,
          );
        } else {
          plan.blockers.push(
            `Detected applied migration not resolved locally: ${version} (flyway validate fails; ignoreMigrationPatterns '*:${state}' would ignore it)`,
          );
        }
      }
      const descriptions = new Set(
        (files as FlywayFile[]).filter((file) => file.kind === 'repeatable').map((file) => file.description),
      );
      for (const description of repeatableChecksums.keys()) {
        if (descriptions.has(description) || flywayIgnores(ignoreMigrationPatterns, 'repeatable', 'missing'))
          continue;
        plan.blockers.push(
          `Detected applied migration not resolved locally: ${description} (repeatable; flyway validate fails)`,
        );
      }
      return plan;
    },

    execution(file, statements) {
      // A script config file's executeInTransaction wins over the parser (it does not lift the mixed check).
      const configured = described.get(file.id)?.executeInTransaction;
      if (configured !== undefined) return configured ? 'transaction' : 'autocommit';
      return statements.some(flywayNonTransactional) ? 'autocommit' : 'transaction';
    },

    refuses(_file, statements) {
      if (mixed) return undefined;
      const non = statements.find(flywayNonTransactional);
      const transactional = statements.find((statement) => !flywayNonTransactional(statement));
      if (!non || !transactional) return undefined;
      // Flyway reports the first statement that makes the file mixed, in file order.
      const offending = non.line > transactional.line ? non : transactional;
      return {
        message: `Detected both transactional and non-transactional statements within the same migration (even though mixed is false). Offending statement found at line ${offending.line}: ${offending.sql}${offending === non ? ' [non-transactional]' : ''}`,
        line: offending.line,
        statement: offending.sql,
      };
    },

    caveat(_file, statements) {
      return statements.some((statement) => statement.kind === 'AlterEnumStmt')
        ? 'Flyway runs ALTER TYPE … ADD VALUE outside a transaction on servers before PostgreSQL 12; replayed as on 12 and later'
        : undefined;
    },

    async recordSuccess(client, file, durationMs) {
      await insertHistoryRow(client, file, described.get(file.id), durationMs, true);
    },

    async recordFailure(client, file, failure) {
      // In a transaction the failure rolled everything back, history row included (PostgreSQL
      // has transactional DDL); without one Flyway writes a failed row.
      if (failure.mode === 'transaction') return;
      await insertHistoryRow(client, file, described.get(file.id), failure.durationMs, false);
    },
  };
}
