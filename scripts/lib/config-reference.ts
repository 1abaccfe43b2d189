// The configuration reference (docs/configuration.md): every key of the config schema with its
// type and default, read from the zod schema's JSON Schema, and its meaning, read from the
// comment on that key's line in config/example.yaml (commented-out example lines count).
// Pure: text in, text out; scripts/config-docs.ts writes the file, a unit test keeps it current.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { z } from 'zod';
import { configSchema } from '../../src/config/schema.js';

/** The part of a JSON Schema (draft 2020-12, as z.toJSONSchema writes it) read here. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
}

/** One documented key. */
export interface ReferenceRow {
  path: string;
  type: string;
  required: boolean;
  default: unknown;
  meaning: string | undefined;
}

/** Every key path of config/example.yaml (dotted) → the comment on its line. */
export function exampleComments(yaml: string): Map<string, string> {
  const comments = new Map<string, string>();
  const stack: { indent: number; key: string }[] = [];
  for (const raw of yaml.split('\n')) {
    const line = uncomment(raw);
    const match = /^(\s*)([A-Za-z_$][\w$.-]*|"[^"]+"|'[^']+'):(\s|$)/.exec(line);
    if (!match) continue;
    const indent = (match[1] as string).length;
    const key = (match[2] as string).replace(/^["']|["']$/g, '');
    while (stack.length > 0 && (stack[stack.length - 1] as { indent: number }).indent >= indent) stack.pop();
    stack.push({ indent, key });
    const comment = inlineComment(line.slice(match[0].length));
    const path = stack.map((entry) => entry.key).join('.');
    if (comment && !comments.has(path)) comments.set(path, comment);
  }
  return comments;
}

/** A commented-out YAML line ("  #   path: x # why") as the line it stands for ("    path: x # why"). */
function uncomment(line: string): string {
  const match = /^(\s*)# ?(.*)$/.exec(line);
  return match ? `${match[1]}${match[2]}` : line;
}

/** The text after " #" outside quotes and flow brackets' strings, trimmed; undefined when none. */
function inlineComment(rest: string): string | undefined {
  let quote: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const char = rest[i];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '#' && (i === 0 || /\s/.test(rest[i - 1] as string))) {
      return rest.slice(i + 1).trim() || undefined;
    }
  }
  return undefined;
}

/** The rows of the reference, depth first in schema order. */
export function referenceRows(schema: JsonSchema, comments: Map<string, string>): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const visit = (object: JsonSchema, prefix: string) => {
    for (const [key, property] of Object.entries(object.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      rows.push({
        path,
        type: typeName(property),
        required: object.required?.includes(key) === true && property.default === undefined,
        default: property.default,
        meaning: comments.get(path),
      });
      if (property.properties) visit(property, path);
    }
  };
  visit(schema, '');
  return rows;
}

/** A short, human type: "string", "duration", "read | write", "list of string", "map of …". */
export function typeName(schema: JsonSchema): string {
  if (schema.$ref) return 'column rule';
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => String(value)).join(' | ');
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return [...new Set(union.map(typeName))].join(' | ');
  if (schema.format === 'duration') return 'duration';
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type;
  if (type === 'array') return `list of ${schema.items ? typeName(schema.items) : 'values'}`;
  if (type === 'object') {
    if (schema.properties) {
      if (schema.additionalProperties !== false && typeof schema.additionalProperties !== 'object')
        return 'object';
      return `{ ${Object.entries(schema.properties)
        .map(([key, value]) => `${key}${schema.required?.includes(key) ? '' : '?'}: ${typeName(value)}`)
        .join(', ')} }`;
    }
    if (typeof schema.additionalProperties === 'object')
      return `map of name → ${typeName(schema.additionalProperties)}`;
    return 'object';
  }
  if (type === 'integer') return 'integer';
  return type ?? 'any';
}

/** docs/configuration.md. Nested objects are documented key by key, their own row typed "section". */
export function renderReference(rows: readonly ReferenceRow[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs` from src/config/schema.ts (keys, types, defaults) and the',
    '     comments in config/example.yaml (meanings). Do not edit: edit those two, then regenerate. -->',
    '',
    'One YAML file (`staging-refresh run -c FILE`). Unknown keys are errors; every problem is',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, printed as is
    'reported at once with its key path (exit 78). Any value may use `${VAR}` (from the',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax, printed as is
    'environment, or from the file named by `VAR_FILE`) and `${VAR:-default}`. Relative paths are',
    "resolved against the file's folder. Durations: `250ms`, `30s`, `5m`, `2h`, `8d`, `1w`.",
    'A complete example with every key: [`config/example.yaml`](../config/example.yaml).',
  ];
  let section = '';
  for (const row of rows) {
    const top = row.path.split('.')[0] as string;
    if (top !== section) {
      section = top;
      lines.push('', `## ${top}`, '', '| key | type | default | meaning |', '| --- | --- | --- | --- |');
    }
    const isSection =
      row.type === 'object' ||
      (row.type.startsWith('{') && rows.some((r) => r.path.startsWith(`${row.path}.`)));
    const type = isSection ? 'section' : row.type;
    const fallback = row.required ? '**required**' : '';
    const value = row.default === undefined ? fallback : `\`${JSON.stringify(row.default)}\``;
    lines.push(`| \`${row.path}\` | ${cell(type)} | ${cell(value)} | ${cell(row.meaning ?? '')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** The reference for the current schema and example: the Markdown and the keys without a meaning. */
export function buildConfigReference(exampleYaml: string): { markdown: string; undocumented: string[] } {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows = referenceRows(schema, exampleComments(exampleYaml));
  return {
    markdown: renderReference(rows),
    undocumented: rows.filter((row) => !row.meaning).map((row) => row.path),
  };
}

/** The Markdown as the repository keeps it: formatted by biome (which `npm run lint` checks). */
export async function formatMarkdown(markdown: string): Promise<string> {
  const biome = fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url));
  const { stdout } = await execa(biome, ['format', '--stdin-file-path=docs/configuration.md'], {
    input: markdown,
    stripFinalNewline: false,
  });
  return stdout;
}
