// The encoding and locale production's database was created with, from the archive's DATABASE
// entry (pg_dump writes it into every archive; pg_restore prints it with --create). The staging
// database is created with the same, so text compares, sorts and builds its indexes as in
// production: a CREATE INDEX on a text column under the C collation and under a linguistic one
// differ several times over in time, and a unique key may hold under one and not the other.

import { pgTool } from '../infra/pg/pg-bin.js';
import { runTool } from '../infra/process/run-tool.js';
import { loadParser, parseStatements } from '../sql/parse-sql.js';
import { scriptText } from './dump-encoding.js';

/** CREATE DATABASE options that decide how text is stored and compared, in pg_dump's order. */
const TEXT_OPTIONS = [
  'encoding',
  'locale_provider',
  'locale',
  'lc_collate',
  'lc_ctype',
  'icu_locale',
  'icu_rules',
  'builtin_locale',
] as const;

/** Option name → value, e.g. { encoding: 'UTF8', locale_provider: 'libc', locale: 'en_US.UTF-8' }. */
export type DatabaseOptions = Partial<Record<(typeof TEXT_OPTIONS)[number], string>>;

/** The text options of production's database, from the archive; undefined when it has no DATABASE entry. */
export async function archiveDatabaseOptions(
  archive: string,
  signal?: AbortSignal,
): Promise<DatabaseOptions | undefined> {
  const script = await runTool({
    file: pgTool('pg_restore'),
    args: ['--create', '--schema-only', '--use-list=/dev/null', '--file=-', archive],
    bytes: true,
    ...(signal && { signal }),
  });
  await loadParser();
  return databaseOptionsOf(scriptText(script.stdoutBytes ?? Buffer.alloc(0)));
}

/** The text options of the script's CREATE DATABASE (psql meta-commands skipped), if it has one. */
export function databaseOptionsOf(script: string): DatabaseOptions | undefined {
  const sql = script
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n');
  const create = parseStatements(sql).find((statement) => statement.kind === 'CreatedbStmt');
  if (!create) return undefined;
  const options: DatabaseOptions = {};
  for (const item of (create.node.options ?? []) as { DefElem?: { defname?: string; arg?: unknown } }[]) {
    const name = item.DefElem?.defname?.toLowerCase();
    const value = constantText(item.DefElem?.arg);
    if (value !== undefined && (TEXT_OPTIONS as readonly string[]).includes(name ?? ''))
      options[name as (typeof TEXT_OPTIONS)[number]] = value;
  }
  return options;
}

/** A DefElem argument as text: a string, a keyword or a number. */
function constantText(arg: unknown): string | undefined {
  const node = arg as { String?: { sval?: string }; Integer?: { ival?: number }; Float?: { fval?: string } };
  if (node?.String?.sval !== undefined) return node.String.sval;
  if (node?.Integer) return String(node.Integer.ival ?? 0);
  if (node?.Float?.fval !== undefined) return node.Float.fval;
  return undefined;
}

/** The options as CREATE DATABASE takes them: [['ENCODING', 'UTF8'], ['LOCALE', 'en_US.UTF-8']]. */
export function createOptions(options: DatabaseOptions): [string, string][] {
  return TEXT_OPTIONS.filter((name) => options[name] !== undefined).map((name) => [
    name.toUpperCase(),
    options[name] as string,
  ]);
}

/** `ENCODING 'UTF8', LOCALE 'en_US.UTF-8'`: the options for a message. */
export function describeOptions(options: DatabaseOptions): string {
  return TEXT_OPTIONS.filter((name) => options[name] !== undefined)
    .map((name) => `${name.toUpperCase()} '${options[name]}'`)
    .join(', ');
}
