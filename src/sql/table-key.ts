// One spelling of "this table" for config keys, record fields and maps: `schema.table`, where the
// first dot outside double quotes separates the two. A schema that holds a dot (or starts with a
// quote) is written in double quotes, so `"sales.eu".orders` is table orders of schema sales.eu;
// the table part is written as it is (`public.order items`, `public.users.archive` = table
// "users.archive") unless it starts with a quote. Config keys may quote either part the SQL way: `"Sales EU"."order ""x"""`.

export interface TableName {
  schema: string;
  table: string;
}

/** The key of a table: its schema quoted only when a dot or a leading quote makes that necessary. */
export function tableKey(schema: string, table: string): string {
  return `${needsQuotes(schema) ? quoted(schema) : schema}.${table.startsWith('"') ? quoted(table) : table}`;
}

/** The schema and table a key names (no schema: public); quoted parts are unquoted. */
export function splitTableKey(key: string): TableName {
  const { schema, table } = parseRelationName(key);
  return { schema: schema ?? 'public', table };
}

/**
 * A relation as a statement names it: `schema.name` as `tableKey` writes it, or a bare name,
 * quoted when it holds a dot or starts with a quote (so `"a.b"` is one table, not a.b).
 */
export function relationName(schema: string | undefined, name: string): string {
  if (schema !== undefined) return tableKey(schema, name);
  return needsQuotes(name) ? quoted(name) : name;
}

/** The parts of a key or relation name; `schema` is absent for a bare name. */
export function parseRelationName(text: string): { schema?: string; table: string } {
  let schema: string | undefined;
  let rest = text;
  if (text.startsWith('"')) {
    const end = closingQuote(text, 0);
    if (end === text.length - 1) return { table: unquote(text) };
    if (end !== -1 && text[end + 1] === '.') {
      schema = unquote(text.slice(0, end + 1));
      rest = text.slice(end + 2);
    }
  }
  if (schema === undefined) {
    const dot = text.indexOf('.');
    if (dot === -1) return { table: text };
    schema = text.slice(0, dot);
    rest = text.slice(dot + 1);
  }
  // A table part that is one quoted identifier: `public."order items"`.
  const table = rest.startsWith('"') && closingQuote(rest, 0) === rest.length - 1 ? unquote(rest) : rest;
  return { schema, table };
}

/** The name as `to_regclass` reads it, each part quoted so case, dots and spaces survive. */
export function regclassText(text: string): string {
  const { schema, table } = parseRelationName(text);
  return schema === undefined ? quoted(table) : `${quoted(schema)}.${quoted(table)}`;
}

/** A config key in the one spelling (`users` → `public.users`, `"s"."t"` → `s.t`). */
export function canonicalTableKey(key: string): string {
  const { schema, table } = splitTableKey(key);
  return tableKey(schema, table);
}

/**
 * The same key computed by the server: `tableKeySql('n.nspname', 'c.relname')` in a SELECT list
 * gives what `tableKey` gives for that row.
 */
export function tableKeySql(schema: string, table: string): string {
  return `(CASE WHEN strpos(${schema}, '.') > 0 OR left(${schema}, 1) = '"' THEN '"' || replace(${schema}, '"', '""') || '"' ELSE ${schema}::text END || '.' || ${table})`;
}

/**
 * One spelling of "this column" (keep entries, findings): `schema.table.column`, the column
 * quoted when it holds a dot or a quote (`public.t."a.b"`).
 */
export function columnKey(table: string, column: string): string {
  return `${table}.${/[."]/.test(column) ? quoted(column) : column}`;
}

/**
 * The table key and column a column key names: the column is the quoted identifier at the end,
 * or what follows the last dot. The table part is a table key (see splitTableKey).
 */
export function splitColumnKey(key: string): { table: string; column: string } {
  if (key.endsWith('"')) {
    // the last quoted identifier: scan for its opening quote from the start, quote pairs aside
    for (let start = key.lastIndexOf('."'); start !== -1; start = key.lastIndexOf('."', start - 1)) {
      if (closingQuote(key, start + 1) === key.length - 1)
        return { table: key.slice(0, start), column: unquote(key.slice(start + 1)) };
    }
  }
  const dot = key.lastIndexOf('.');
  return { table: key.slice(0, dot), column: key.slice(dot + 1) };
}

function needsQuotes(schema: string): boolean {
  return schema.includes('.') || schema.startsWith('"');
}

function quoted(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function unquote(text: string): string {
  return text.slice(1, -1).replaceAll('""', '"');
}

/** Index of the quote that closes the quoted identifier opening at `start` ("" is an escaped quote). */
function closingQuote(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] !== '"') continue;
    if (text[i + 1] === '"') {
      i++;
      continue;
    }
    return i;
  }
  return -1;
}
