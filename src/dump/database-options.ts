// What production's database itself carries, from the archive's DATABASE and DATABASE PROPERTIES
// entries (pg_dump writes them into every archive; pg_restore prints them only with --create, so a
// restore without it loses them): the encoding and locale it was created with — staging is created
// the same, so text compares, sorts and builds its indexes as in production (a CREATE INDEX on a
// text column under C and under a linguistic collation differ several times over) — and its
// settings (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET: a search_path there is what
// the application's unqualified names resolve through, and what its migrations were written for).

import { literal } from '../infra/pg/connection.js';
import { pgTool } from '../infra/pg/pg-bin.js';
import { runTool } from '../infra/process/run-tool.js';
import { loadParser, type ParsedStatement, parseStatements } from '../sql/parse-sql.js';
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

/** A setting of production's database, for everyone or for one role there. */
export interface DatabaseSetting {
  role?: string;
  /** The setting's name, as the parser gives it (lower case unless it was quoted). */
  name: string;
  /** Its value as SQL: `'app', 'public'`, `'30s'`, `1.1`. */
  value: string;
  /** The value as text when it is one constant (`30s`, `1.1`). */
  text?: string;
}

/** What production's database carries: its text options (undefined: no DATABASE entry) and settings. */
export interface DatabaseEntry {
  options: DatabaseOptions | undefined;
  settings: DatabaseSetting[];
}

/** Production's database as the archive has it. */
export async function archiveDatabaseEntry(archive: string, signal?: AbortSignal): Promise<DatabaseEntry> {
  const script = await runTool({
    file: pgTool('pg_restore'),
    args: ['--create', '--schema-only', '--use-list=/dev/null', '--file=-', archive],
    bytes: true,
    ...(signal && { signal }),
  });
  await loadParser();
  return databaseEntryOf(scriptText(script.stdoutBytes ?? Buffer.alloc(0)));
}

/** The CREATE DATABASE text options and the settings of a `pg_restore --create` script. */
export function databaseEntryOf(script: string): DatabaseEntry {
  // psql's meta-commands pg_restore prints, not any line starting with a backslash: a value's
  // second line may (E'a<newline>\\b').
  const sql = script
    .split('\n')
    .filter((line) => !/^\\(connect|restrict|unrestrict|encoding)\b/.test(line))
    .join('\n');
  const statements = parseStatements(sql);
  const settings: DatabaseSetting[] = [];
  for (const { kind, node } of statements) {
    if (kind !== 'AlterDatabaseSetStmt' && kind !== 'AlterRoleSetStmt') continue;
    const set = node.setstmt as { kind?: string; name?: string; args?: unknown[] } | undefined;
    if (set?.kind !== 'VAR_SET_VALUE' || !set.name || !set.args) continue;
    const values = set.args.map(constantSql);
    if (values.some((value) => value === undefined)) continue;
    const role = (node.role as { rolename?: string } | undefined)?.rolename;
    const text = set.args.length === 1 ? constantText(constantOf(set.args[0])) : undefined;
    settings.push({
      ...(role !== undefined && { role }),
      name: set.name,
      value: values.join(', '),
      ...(text !== undefined && { text }),
    });
  }
  return { options: databaseOptionsOf(statements), settings };
}

/** The text options of the statements' CREATE DATABASE, if they have one. */
function databaseOptionsOf(statements: readonly ParsedStatement[]): DatabaseOptions | undefined {
  const create = statements.find((statement) => statement.kind === 'CreatedbStmt');
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

/** A SET argument's constant as a DefElem-style node: { String } / { Integer } / { Float }. */
function constantOf(arg: unknown): unknown {
  const node = (
    arg as { A_Const?: { sval?: { sval?: string }; ival?: { ival?: number }; fval?: { fval?: string } } }
  ).A_Const;
  if (node?.sval?.sval !== undefined) return { String: { sval: node.sval.sval } };
  if (node?.ival) return { Integer: { ival: node.ival.ival ?? 0 } };
  if (node?.fval?.fval !== undefined) return { Float: { fval: node.fval.fval } };
  return undefined;
}

/** A SET argument as SQL: a string literal (quoted with the driver's escaping) or a number. */
function constantSql(arg: unknown): string | undefined {
  const constant = constantOf(arg) as { String?: { sval: string } } | undefined;
  if (constant?.String) return literal(constant.String.sval);
  return constantText(constant);
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
