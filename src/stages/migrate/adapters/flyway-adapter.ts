// Flyway: V<version>__<description>.sql (versions compared part by part), R__<description>.sql
// repeatables (re-run when their checksum changes, after the versioned ones), U<version>__…
// undo files; history in flyway_schema_history with Flyway's CRC32 checksum and execution time.
// Flyway's validate refuses to migrate on a checksum mismatch or a pending migration older than
// the latest applied one (outOfOrder=false): those are blockers here too.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { hasTransactionControl, requiresNoTransaction } from '../../../sql/parse-sql.js';
import type { MigrationAdapter, MigrationFile, MigrationPlan } from './adapter.js';
import { listFiles } from './files.js';

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
}

/** The Flyway adapter (history in the connection's default schema). */
export function flywayAdapter(): MigrationAdapter {
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
        } else if (latest !== undefined && compareVersions(file.id, latest) < 0) {
          plan.blockers.push(
            `${file.script} is pending but older than the latest applied version ${latest} (flyway outOfOrder=false refuses it)`,
          );
        } else {
          plan.pending.push(file);
        }
      }
      return plan;
    },

    transactional(_file, statements) {
      return !hasTransactionControl(statements) && !statements.some(requiresNoTransaction);
    },

    async recordSuccess(client, file, durationMs) {
      const meta = described.get(file.id);
      await client.query(
        `INSERT INTO flyway_schema_history
           (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
         SELECT coalesce(max(installed_rank), 0) + 1, $1, $2, 'SQL', $3, $4, current_user, $5, true FROM flyway_schema_history`,
        [
          file.kind === 'versioned' ? file.id : null,
          meta?.description ?? file.name,
          meta?.script ?? file.name,
          meta?.checksum ?? null,
          Math.round(durationMs),
        ],
      );
    },
  };
}
