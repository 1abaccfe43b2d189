// `pg_restore --list` output parsed into what later steps need: header facts and entries.
import { tableKey } from '../sql/table-key.js';
import type { ArchiveEntryNames } from './custom-archive.js';

/** One line of the archive's table of contents. */
export interface TocEntry {
  dumpId: number;
  /** "TABLE", "TABLE DATA", "INDEX", "CONSTRAINT", "FK CONSTRAINT", "SEQUENCE SET", … */
  type: string;
  schema: string;
  name: string;
  owner: string;
  /** The line as pg_restore printed it; a -L list file is made of these. */
  line: string;
}

/** The archive header and entries. */
export interface Toc {
  dbname?: string;
  format?: string;
  archiveVersion?: string;
  serverVersion?: string;
  dumpVersion?: string;
  entries: TocEntry[];
}

// Longest types first so "TABLE DATA" is not read as "TABLE".
const TYPES = [
  'FOREIGN DATA WRAPPER',
  'FOREIGN TABLE',
  'USER MAPPING',
  'EVENT TRIGGER',
  'PUBLICATION TABLE',
  'PUBLICATION',
  'SUBSCRIPTION',
  'SERVER',
  'FK CONSTRAINT',
  'TABLE DATA',
  'SEQUENCE SET',
  'SEQUENCE OWNED BY',
  'MATERIALIZED VIEW DATA',
  'MATERIALIZED VIEW',
  'DEFAULT ACL',
  'CHECK CONSTRAINT',
  'CONSTRAINT',
  'TABLE ATTACH',
  'TABLE',
  'INDEX ATTACH',
  'INDEX',
  'SEQUENCE',
  'VIEW',
  'FUNCTION',
  'PROCEDURE',
  'TRIGGER',
  'DEFAULT',
  'EXTENSION',
  'SCHEMA',
  'TYPE',
  'DOMAIN',
  'COMMENT',
  'ACL',
  'POLICY',
  'RULE',
  'AGGREGATE',
  'LARGE OBJECT',
  'BLOB METADATA',
  'BLOBS',
  'BLOB',
  'STATISTICS DATA',
  'STATISTICS',
];

/** Parses `pg_restore --list` output. */
export function parseToc(listing: string): Toc {
  const toc: Toc = { entries: [] };
  for (const raw of listing.split('\n')) {
    const line = raw.trimEnd();
    const header = /^;\s+([^:]+):\s*(.*)$/.exec(line);
    if (header) {
      const [, key, value] = header as unknown as [string, string, string];
      if (key === 'dbname') toc.dbname = value;
      else if (key === 'Format') toc.format = value;
      else if (key === 'Dump Version') toc.archiveVersion = value;
      else if (key === 'Dumped from database version') toc.serverVersion = value;
      else if (key === 'Dumped by pg_dump version') toc.dumpVersion = value;
      continue;
    }
    const entry = /^(\d+);\s+\d+\s+\d+\s+(.*)$/.exec(line);
    if (!entry) continue;
    const rest = entry[2] as string;
    const type = TYPES.find((candidate) => rest.startsWith(`${candidate} `));
    if (!type) continue;
    const words = rest.slice(type.length + 1).split(' ');
    const owner = words.length >= 3 ? (words.pop() as string) : '';
    const schema = words.shift() ?? '';
    toc.entries.push({ dumpId: Number(entry[1]), type, schema, name: words.join(' '), owner, line });
  }
  return withSpacedSchemas(toc);
}

/**
 * The listing separates schema and name by a space and quotes neither: "Sales EU orders" is
 * schema "Sales EU" when the archive has that schema (its SCHEMA entry names it whole).
 */
function withSpacedSchemas(toc: Toc): Toc {
  const spaced = toc.entries
    .filter((entry) => entry.type === 'SCHEMA' && entry.name.includes(' '))
    .map((entry) => entry.name)
    .sort((a, b) => b.length - a.length);
  if (spaced.length === 0) return toc;
  for (const entry of toc.entries) {
    if (entry.type === 'SCHEMA' || entry.schema === '-') continue;
    const words = `${entry.schema} ${entry.name}`;
    const schema = spaced.find((name) => words.startsWith(`${name} `));
    if (schema) {
      entry.schema = schema;
      entry.name = words.slice(schema.length + 1);
    }
  }
  return toc;
}

/**
 * The listing's entries with schema, name and owner as the archive stores them, where its binary
 * TOC was read (custom, directory and tar archives: custom-archive.ts's archiveEntryNames): `pg_restore --list` prints the three separated by
 * spaces and quotes none, so `public users app owner` — table users, owned by "app owner" — was
 * read as table "users app", owner "owner", and a masked table's rows went through pg_restore
 * unmasked beside the masked stream. An entry is replaced only where the stored names print as
 * the listing's line does (a name decoded otherwise keeps the listing's reading).
 */
export function withArchiveNames(toc: Toc, names: ReadonlyMap<number, ArchiveEntryNames>): Toc {
  const printed = (text: string) => text.replace(/[\r\n]/g, ' ');
  return {
    ...toc,
    entries: toc.entries.map((entry) => {
      const stored = names.get(entry.dumpId);
      if (!stored || stored.desc !== entry.type) return entry;
      const rest = entry.line.slice(entry.line.indexOf(`${entry.type} `) + entry.type.length + 1);
      const line = printed(`${stored.namespace ?? '-'} ${stored.tag} ${stored.owner}`).trimEnd();
      if (line !== rest.trimEnd()) return entry;
      return { ...entry, schema: stored.namespace ?? '-', name: stored.tag, owner: stored.owner };
    }),
  };
}

/** `schema.table` of every table that has data in the archive. */
export function tablesWithData(toc: { entries: readonly TocEntry[] }): string[] {
  return toc.entries
    .filter((entry) => entry.type === 'TABLE DATA')
    .map((entry) => tableKey(entry.schema, entry.name));
}

/** Major version from "15.18 (Debian 15.18-0+deb12u1)" or "9.6.24". */
export function majorVersion(version: string | undefined): number | undefined {
  const match = /^(\d+)(?:\.(\d+))?/.exec(version ?? '');
  if (!match) return undefined;
  const major = Number(match[1]);
  return major < 10 && match[2] ? Number(`${major}.${match[2]}`) : major;
}
