// The warm-up before the first masked row (src/stages/restore/warm-masking.ts), on a real archive:
// it masks each table's first rows within its budget, never fails the run over a value (the real
// stream reports that), and leaves nothing behind in what the run's own transforms write.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CopyLines } from '../../src/anonymize/copy-lines.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { type ColumnRule, compileRule } from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { directTableReads, readTableData } from '../../src/dump/custom-archive.js';
import { tableKey } from '../../src/sql/table-key.js';
import { type WarmTable, warmMasking } from '../../src/stages/restore/warm-masking.js';
import { cluster, makeDump, tempDir } from '../harness/pg-test-env.js';

/** Rows in `order`: ann1000@ before ANN1000@ ascending, after it descending. */
const schema = (order: 'ASC' | 'DESC') => `
  CREATE TABLE "Accounts" (id int PRIMARY KEY, email text UNIQUE, name text, born text);
  INSERT INTO "Accounts" SELECT g, CASE WHEN g % 1000 = 7 THEN 'ANN' || (g - 7) ELSE 'ann' || g END || '@Mail.example',
         'Name ' || (g % 97), (date '1970-01-01' + g)::text FROM generate_series(1, 30000) g ORDER BY g ${order};
  CREATE TABLE odd (id int, born text);
  INSERT INTO odd VALUES (1, 'not a date'), (2, '2001-02-03');`;

const RULES: Record<string, Record<string, ColumnRule>> = {
  'public.Accounts': {
    email: { email: {} },
    name: { fake: 'person.fullName' },
    born: { shift: 30 * 86_400_000 },
  },
  'public.odd': { born: { shift: 30 * 86_400_000 } },
};

describe('warming the masking code', () => {
  let archive: string;
  let tables: WarmTable[];
  let reversed: WarmTable[];

  /** The warm-up's view of an archive's two tables. */
  async function warmTables(archive: string): Promise<WarmTable[]> {
    const { reads } = await directTableReads(archive, tableKey);
    return [
      ['public', 'Accounts', ['email']],
      ['public', 'odd', []],
    ].map(([schema, table, unique]) => ({
      archive,
      pgRestore: join(cluster().binDir, 'pg_restore'),
      schema: schema as string,
      table: table as string,
      hasData: true,
      rules: RULES[tableKey(schema as string, table as string)] ?? {},
      types: [['born', 'date']],
      secret: 'warm-secret',
      domain: 'example.invalid',
      unique: unique as string[],
      direct: reads.get(tableKey(schema as string, table as string)),
    }));
  }

  beforeAll(async () => {
    cluster();
    const dir = await tempDir('warm');
    archive = await makeDump(join(dir, 'prod.dump'), schema('ASC'));
    tables = await warmTables(archive);
    reversed = await warmTables(await makeDump(join(dir, 'reversed.dump'), schema('DESC')));
  });

  /** What a fresh transform of the run writes for the Accounts table. */
  async function masked(): Promise<string> {
    const [accounts] = tables as [WarmTable];
    const lines = new CopyLines((columns) =>
      compileTableTransform(
        'public.Accounts',
        columns,
        accounts.rules,
        new Map(accounts.types),
        new KeyedPrf(accounts.secret),
        accounts.domain,
        new Set(accounts.unique),
      ),
    );
    const out: Buffer[] = [];
    for await (const chunk of readTableData(archive, accounts.direct as NonNullable<WarmTable['direct']>))
      out.push(lines.push(chunk).out);
    return Buffer.concat(out).toString('utf8');
  }

  // First: the process has met no Accounts row before.
  it("leaves the run's own transforms writing what they would have written without it", async () => {
    // Case variants of one mailbox meet: the first met keeps the plain mapping, the second is
    // re-keyed. The warm-up meets ANN1000@ first; the run meets ann1000@ first.
    await warmMasking(reversed, { ms: 60_000, bytes: 64 * 1024 * 1024 }, new AbortController().signal);
    const out = (await masked()).split('\n');
    const emailOf = (id: number) => out.find((line) => line.startsWith(`${id}\t`))?.split('\t')[1];
    const plain = compileRule(
      { email: {} },
      { prf: new KeyedPrf('warm-secret'), type: 'text', domain: 'example.invalid' },
    )('ann1000@Mail.example', () => null);
    expect(emailOf(1000)).toBe(plain);
    expect(emailOf(1007)).toMatch(/^u_[0-9a-f]{16}@example\.invalid$/);
    expect(emailOf(1007)).not.toBe(plain);
    expect(out.filter((line) => line.includes('@example.invalid')).length).toBe(30000);
  });

  it('masks every table it can read within its budget, and a value no rule can mask ends only its own warm-up', async () => {
    const warmUp = await warmMasking(
      tables,
      { ms: 60_000, bytes: 64 * 1024 * 1024 },
      new AbortController().signal,
    );
    // All of Accounts; odd's first block holds the value shift refuses: nothing of it counted.
    expect(warmUp).toMatchObject({ tables: 2, rows: 30000 });
  });

  it('stops at its budget', async () => {
    const signal = new AbortController().signal;
    expect(await warmMasking(tables, { ms: 0, bytes: 1 << 20 }, signal)).toMatchObject({
      tables: 0,
      rows: 0,
    });
    const few = await warmMasking(tables.slice(0, 1), { ms: 60_000, bytes: 1 }, signal);
    expect(few.rows).toBeGreaterThan(0);
    expect(few.rows).toBeLessThan(30000);
    const stopped = new AbortController();
    stopped.abort();
    expect(await warmMasking(tables, { ms: 60_000, bytes: 1 << 20 }, stopped.signal)).toMatchObject({
      tables: 0,
    });
  });
});
