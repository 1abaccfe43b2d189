// pg_restore's argv, built by a pure function so it can be tested as exact output.

/** The restore passes DESIGN.md describes. */
export type RestoreSection = 'pre-data' | 'data' | 'post-data';

export interface PgRestoreOptions {
  archive: string;
  database: string;
  section: RestoreSection;
  /** The archive's format: tar archives are restored without -j. */
  format?: 'custom' | 'tar' | 'directory';
  jobs: number;
  /** Role that will own the restored objects (SET ROLE); objects are never owned by the dump's roles. */
  role?: string | undefined;
  /** A TOC list file (-L) restricting what is restored. */
  listFile?: string | undefined;
}

/** argv for one pg_restore pass. Connection details travel in PG* environment variables. */
export function pgRestoreArgs(options: PgRestoreOptions): string[] {
  const args = [
    `--dbname=${options.database}`,
    `--section=${options.section}`,
    '--no-owner',
    '--no-privileges',
    '--no-publications',
    '--no-subscriptions',
    '--no-security-labels',
    '--no-tablespaces',
    '--exit-on-error',
  ];
  // -j only helps where there is work to split; pre-data is a sequence of small DDL statements.
  // pg_restore reads a tar archive front to back: it cannot restore one in parallel.
  if (options.section !== 'pre-data' && options.jobs > 1 && options.format !== 'tar')
    args.push(`--jobs=${options.jobs}`);
  if (options.role) args.push(`--role=${options.role}`);
  if (options.listFile) args.push(`--use-list=${options.listFile}`);
  args.push(options.archive);
  return args;
}

/** argv that prints one table's data (COPY text) to stdout, for streaming it through a transform. */
export function tableDataArgs(archive: string, schema: string, table: string): string[] {
  return ['--data-only', `--schema=${schema}`, `--table=${table}`, '--file=-', archive];
}
