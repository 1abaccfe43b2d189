// Masks one table's data from an archive and throws the result away: the whole client side of a
// masked table (reading and inflating its data block, or pg_restore and its pipe where a run uses
// it; cutting fields, the PRFs and fakes, re-encoding) without the server. The bench starts it pinned to one tool core, so rows per
// second there are rows per second per tool core; with `threads` above 1 the table is split
// across helper threads as a restore splits a big table (block-masker.ts), from the first block,
// a unique masked column's too (kept unique as a run keeps it: each block's output keys to a ledger
// on disk in row order, the rows that clash found after the stream).
// It runs the compiled product in dist/. Prints one JSON line.
// argv: archive schema table rules-json types-json secret domain [threads [all-tables-rules-json]]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ColumnRule } from '../../src/config/schema.js';

/**
 * A module of the product as it ships, compiled in dist/ (the bench builds it first): the code a
 * run executes, and helper threads start from JavaScript as a run's do. From the TypeScript
 * sources, each helper first loaded tsx and transpiled every module it imports (~1 s of CPU, which
 * in the bench's 2M-row table was most of what splitting it could gain).
 */
const shipped = <Module>(path: string): Promise<Module> =>
  import(new URL(`../../dist/${path}`, import.meta.url).href) as Promise<Module>;
const [
  { CopyLines },
  { KeyedPrf },
  { compileTableTransform },
  { directTableReads },
  { archiveUniqueKeys, uniqueRuledColumns },
  { pgTool },
  { tuneHeapGrowth },
  { warmParser },
  { tableKey },
  { BlockMasker, InOrderBlocks, threadBudget },
  { openTableData },
  { warmMasking },
  { KeyRecorder, LedgerIndex, OutputLedger, takeKeys },
] = await Promise.all([
  shipped<typeof import('../../src/anonymize/copy-lines.js')>('anonymize/copy-lines.js'),
  shipped<typeof import('../../src/anonymize/prf/keyed-prf.js')>('anonymize/prf/keyed-prf.js'),
  shipped<typeof import('../../src/anonymize/table-transform.js')>('anonymize/table-transform.js'),
  shipped<typeof import('../../src/dump/custom-archive.js')>('dump/custom-archive.js'),
  shipped<typeof import('../../src/dump/unique-keys.js')>('dump/unique-keys.js'),
  shipped<typeof import('../../src/infra/pg/pg-bin.js')>('infra/pg/pg-bin.js'),
  shipped<typeof import('../../src/infra/process/heap-growth.js')>('infra/process/heap-growth.js'),
  shipped<typeof import('../../src/sql/parse-sql.js')>('sql/parse-sql.js'),
  shipped<typeof import('../../src/sql/table-key.js')>('sql/table-key.js'),
  shipped<typeof import('../../src/stages/restore/block-masker.js')>('stages/restore/block-masker.js'),
  shipped<typeof import('../../src/stages/restore/table-data-source.js')>(
    'stages/restore/table-data-source.js',
  ),
  shipped<typeof import('../../src/anonymize/warm-masking.js')>('anonymize/warm-masking.js'),
  shipped<typeof import('../../src/anonymize/output-ledger.js')>('anonymize/output-ledger.js'),
]);

const [archive, schema, table, rulesJson, typesJson, secret, domain, threadsArg, tablesJson] =
  process.argv.slice(2) as string[];
const rules = JSON.parse(rulesJson as string) as Record<string, ColumnRule>;
const typesList = Object.entries(JSON.parse(typesJson as string) as Record<string, string>);
const threads = Math.max(1, Number(threadsArg ?? 1));
const name = `${schema}.${table}`;
// The heap's growth set as a run sets it, as its warm-up starts (set after the warm-up, the limit
// from its last full collection was still the old factor's, and on Node 24 a mark-compact often
// fell inside a 50k-row table's time); then the parser and the masking code warmed, as a run
// warms them while it locates and downloads the backup (the masking on made-up rows under every
// masked table's rules).
tuneHeapGrowth();
warmParser();
await warmMasking(
  {
    tables: tablesJson ? JSON.parse(tablesJson) : { [name]: rules },
    domain: domain as string,
    secret,
  },
  new AbortController().signal,
);
// Ruled columns with a unique key of their own, as a run finds them: their outputs' keys are
// recorded to be kept apart after the stream.
const unique = uniqueRuledColumns(
  await archiveUniqueKeys(archive as string),
  tableKey(schema as string, table as string),
  rules,
);
const ledgerDir = mkdtempSync(join(tmpdir(), 'bench-ledger-'));
const ledgers = new Map<string, InstanceType<typeof OutputLedger>>();
const recorders = new Map<string, InstanceType<typeof KeyRecorder>>();
const lines = new CopyLines((columns) =>
  compileTableTransform(
    name,
    columns,
    rules,
    new Map(typesList),
    KeyedPrf.of(secret as string),
    domain as string,
    new Set(unique),
    {
      ledger: (column) => {
        ledgers.set(column, new OutputLedger(join(ledgerDir, `${ledgers.size}.ledger`)));
        const recorder = new KeyRecorder();
        recorders.set(column, recorder);
        return recorder;
      },
    },
  ),
);
// As a run reads it: from the archive's data block where the reader can, else pg_restore. A run
// reads the archive's TOC once, while it inspects the backup, before any table: not in the timing.
const direct = await directTableReads(archive as string, tableKey);
const started = performance.now();
const masker = new BlockMasker(lines, {
  splittable: true,
  keys: () => takeKeys(recorders),
  budget: threads > 1 ? threadBudget(threads) : undefined,
  helpersAfterBytes: 0,
  setup: (columns) => ({
    table: name,
    columns,
    rules,
    types: typesList,
    secret: secret as string,
    domain: domain as string,
    unique,
  }),
});
const source = openTableData(
  {
    archive: archive as string,
    pgRestore: pgTool('pg_restore'),
    schema: schema as string,
    table: table as string,
    direct: direct.reads.get(tableKey(schema as string, table as string)),
  },
  new AbortController().signal,
);
let bytes = 0;
let outBytes = 0;
let columns: string[] = [];
const blocks = new InOrderBlocks(masker, ({ out, keys }) => {
  outBytes += out.length;
  for (const [column, taken] of Object.entries(keys ?? {})) ledgers.get(column)?.append(taken);
});
for await (const chunk of source.chunks) {
  bytes += chunk.length;
  const { spans, header } = lines.cut(chunk);
  if (header) columns = header;
  for (const span of spans) blocks.push(masker.submit(span, columns));
  await blocks.flush(false);
}
await blocks.flush(true);
const failed = await source.finish();
if (failed) throw new Error(`${failed.problem}: ${failed.stderr}`);
// What a run does next with a unique column's ledger: the rows whose output an earlier row wrote.
let clashes = 0;
for (const ledger of ledgers.values()) {
  const index = LedgerIndex.build(ledger.close());
  clashes += index.clashes().length;
  index.remove();
  ledger.remove();
}
rmSync(ledgerDir, { recursive: true, force: true });
const ms = performance.now() - started;
const helpers = masker.helperCount;
await masker.close();
process.stdout.write(
  `${JSON.stringify({ rows: lines.rows + masker.helperRows, bytes, outBytes, ms, threads: 1 + helpers, clashes })}\n`,
);
