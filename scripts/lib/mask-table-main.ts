// Masks one table's data from an archive and throws the result away: the whole client side of a
// masked table (pg_restore's decompression, the pipe, cutting fields, the PRFs and fakes,
// re-encoding) without the server. The bench starts it pinned to one tool core, so rows per
// second here are rows per second per tool core. Prints one JSON line.
// argv: archive schema table rules-json types-json secret domain
import { execa } from 'execa';
import { CopyLines } from '../../src/anonymize/copy-lines.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import type { ColumnRule } from '../../src/config/schema.js';
import { tableDataArgs } from '../../src/dump/pg-restore-args.js';
import { pgTool } from '../../src/infra/pg/pg-bin.js';

const [archive, schema, table, rulesJson, typesJson, secret, domain] = process.argv.slice(2) as string[];
const rules = JSON.parse(rulesJson as string) as Record<string, ColumnRule>;
const types = new Map(Object.entries(JSON.parse(typesJson as string) as Record<string, string>));
const started = performance.now();
const child = execa(
  pgTool('pg_restore'),
  tableDataArgs(archive as string, schema as string, table as string),
  {
    buffer: { stdout: false, stderr: true },
    stdin: 'ignore',
  },
);
const lines = new CopyLines((columns) =>
  compileTableTransform(
    `${schema}.${table}`,
    columns,
    rules,
    types,
    new KeyedPrf(secret as string),
    domain as string,
  ),
);
let bytes = 0;
let outBytes = 0;
for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
  bytes += chunk.length;
  outBytes += lines.push(chunk).out.length;
}
await child;
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ rows: lines.rows, bytes, outBytes, ms })}\n`);
