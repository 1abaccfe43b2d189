import { describe, expect, it } from 'vitest';
import { CopyLines } from '../../src/anonymize/copy-lines.js';
import { KeyRecorder, takeKeys } from '../../src/anonymize/output-ledger.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { type ColumnRule, parseRule } from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { encodeField } from '../../src/format/copy-text.js';
import {
  BlockMasker,
  InOrderBlocks,
  type MaskedBlock,
  threadBudget,
} from '../../src/stages/restore/block-masker.js';

// Real helper threads: one table's blocks masked on several, against one thread doing it all.
const COLUMNS = ['id', 'email', 'name', 'born', 'note'];
const RULES: Record<string, ColumnRule> = {
  email: parseRule('email'),
  name: parseRule({ fake: 'person.fullName' }),
  born: parseRule({ shift: '30d' }),
  note: parseRule('hash'),
};
const TYPES: [string, string][] = [['born', 'date']];
/** The transform; a unique column's output keys go to a recorder of `recorders` (as a stream's do). */
const compile =
  (unique: string[] = [], recorders = new Map<string, KeyRecorder>()) =>
  (columns: string[]) =>
    compileTableTransform(
      'public.t',
      columns,
      RULES,
      new Map(TYPES),
      new KeyedPrf('split'),
      'x.invalid',
      new Set(unique),
      {
        ledger: (column) => {
          const recorder = new KeyRecorder();
          recorders.set(column, recorder);
          return recorder;
        },
      },
    );

function archive(rows: number, bad?: number): Buffer {
  const lines = [];
  for (let i = 0; i < rows; i++)
    lines.push(
      [
        String(i),
        `User${i}@Mail.example`,
        `Name ${i % 97}`,
        i === bad ? 'not a date' : `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
        i % 3 ? `nöte\t${i}` : null,
      ]
        .map(encodeField)
        .join('\t'),
    );
  return Buffer.from(
    `SET x = 1;\nCOPY public.t (${COLUMNS.join(', ')}) FROM stdin;\n${lines.join('\n')}\n\\.\n\n`,
  );
}

/** Streams `bytes` in 64 KiB chunks through a BlockMasker, writing blocks in order as the stream does. */
async function split(bytes: Buffer, unique: string[] = []) {
  const recorders = new Map<string, KeyRecorder>();
  const lines = new CopyLines(compile(unique, recorders));
  const budget = threadBudget(4);
  const masker = new BlockMasker(lines, {
    splittable: true,
    keys: () => takeKeys(recorders),
    budget,
    helpersAfterBytes: 0,
    setup: (columns) => ({
      table: 'public.t',
      columns,
      rules: RULES,
      types: TYPES,
      secret: 'split',
      domain: 'x.invalid',
      unique,
    }),
  });
  const out: Buffer[] = [];
  /** Each unique column's keys, block after block in row order. */
  const keys = new Map<string, Uint32Array[]>();
  let columns: string[] = [];
  let helpersSeen = 0;
  try {
    for (let at = 0; at < bytes.length; at += 65_536) {
      const { spans, header } = lines.cut(bytes.subarray(at, at + 65_536));
      if (header) columns = header;
      for (const span of spans) {
        const block = await masker.submit(span, columns);
        out.push(block.out);
        for (const [column, taken] of Object.entries(block.keys ?? {}))
          keys.set(column, [...(keys.get(column) ?? []), taken]);
      }
      // The first helper starts after the first block (from source here: a second or two); the
      // pipe's pace in a real restore gives it that time, the test waits for it.
      for (let waited = 0; masker.helpersReady === 0 && waited < 200; waited++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      helpersSeen = Math.max(helpersSeen, masker.helperCount);
    }
    const samples = await masker.finish(
      lines.transform?.leakSample() ?? { keyColumns: [], checkedColumns: [], rows: [] },
    );
    return {
      out: Buffer.concat(out),
      keys: new Map([...keys].map(([column, blocks]) => [column, joinKeys(blocks)])),
      rows: lines.rows + masker.helperRows,
      helperRows: masker.helperRows,
      helpers: helpersSeen,
      samples,
      budget,
    };
  } finally {
    await masker.close();
    expect(new Int32Array(budget)[0]).toBe(4); // every slot given back
  }
}

describe('one table masked on several threads', () => {
  it('gives the bytes one thread gives, rows in order, and a merged leak sample', async () => {
    const bytes = archive(40_000);
    const reference = new CopyLines(compile());
    const expected = reference.push(bytes).out;
    const got = await split(bytes);
    expect(got.helpers).toBeGreaterThan(0);
    expect(got.helperRows).toBeGreaterThan(0);
    expect(got.rows).toBe(40_000);
    expect(got.out.length).toBe(expected.length);
    expect(got.out.toString().split('\n').slice(0, 3)).toEqual(expected.toString().split('\n').slice(0, 3));
    expect(got.out.equals(expected)).toBe(true);
    expect(got.samples.rows.length).toBe(50);
    expect(got.samples.checkedColumns).toEqual(['email', 'name', 'born', 'note']);
  }, 60_000);

  it('splits a table with a masked unique column too: its blocks bring their keys back, in row order', async () => {
    const bytes = archive(40_000);
    const recorders = new Map<string, KeyRecorder>();
    const reference = new CopyLines(compile(['email'], recorders));
    const expected = reference.push(bytes).out;
    const expectedKeys = recorders.get('email')?.take();
    expect(expectedKeys?.length).toBe(80_000);
    const got = await split(bytes, ['email']);
    expect(got.helpers).toBeGreaterThan(0);
    expect(got.helperRows).toBeGreaterThan(0);
    expect(got.out.equals(expected)).toBe(true);
    expect(got.keys.get('email')).toEqual(expectedKeys);
  }, 60_000);

  it('a row a helper cannot mask fails the stream with the rule’s message', async () => {
    await expect(split(archive(30_000, 29_000))).rejects.toThrow(
      /shift: a value does not start with a YYYY-MM-DD date/,
    );
  }, 60_000);
});

const joinKeys = (blocks: Uint32Array[]) => {
  const joined = new Uint32Array(blocks.reduce((sum, block) => sum + block.length, 0));
  let at = 0;
  for (const block of blocks) {
    joined.set(block, at);
    at += block.length;
  }
  return joined;
};

describe('a helper that fails', () => {
  it('leaves the table to its stream, which finishes it alone and gives back the slot', async () => {
    const bytes = archive(20_000);
    const expected = new CopyLines(compile()).push(bytes).out;
    const lines = new CopyLines(compile());
    const budget = threadBudget(3);
    const masker = new BlockMasker(lines, {
      splittable: true,
      budget,
      helpersAfterBytes: 0,
      // a rule on a column the table does not have: the helper's transform cannot compile
      setup: (columns) => ({
        table: 'public.t',
        columns,
        rules: { ...RULES, nope: parseRule('hash') },
        types: TYPES,
        secret: 'split',
        domain: 'x.invalid',
      }),
    });
    const out: Buffer[] = [];
    let columns: string[] = [];
    for (let at = 0; at < bytes.length; at += 65_536) {
      const { spans, header } = lines.cut(bytes.subarray(at, at + 65_536));
      if (header) columns = header;
      for (const span of spans) out.push((await masker.submit(span, columns)).out);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await masker.finish(lines.transform?.leakSample() ?? { keyColumns: [], checkedColumns: [], rows: [] });
    expect(masker.helperRows).toBe(0);
    expect(masker.helperCount).toBe(0); // dropped, and no second one started
    expect(Buffer.concat(out).equals(expected)).toBe(true);
    await masker.close();
    expect(new Int32Array(budget)[0]).toBe(3);
  }, 60_000);
});

describe('blocks handed on in row order', () => {
  /** A masker as InOrderBlocks sees it: only its helper count matters. */
  const masker = { helperCount: 0 } as BlockMasker;
  const later = () => {
    let resolve: (out: Buffer) => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const promise = new Promise<MaskedBlock>((yes, no) => {
      resolve = (out) => yes({ out });
      reject = no;
    });
    return { promise, resolve, reject };
  };
  const block = (text: string): MaskedBlock => ({ out: Buffer.from(text) });

  it('writes each block once every block before it is done, whatever order they finish in', async () => {
    const written: string[] = [];
    const blocks = new InOrderBlocks(masker, ({ out }) => {
      written.push(out.toString());
    });
    const [first, second] = [later(), later()];
    blocks.push(block('a'));
    blocks.push(first.promise);
    blocks.push(block('c'));
    blocks.push(second.promise);
    await blocks.flush(false);
    expect(written).toEqual(['a']); // the second block is out, and few are: no waiting
    second.resolve(Buffer.from('d'));
    first.resolve(Buffer.from('b'));
    await new Promise((resolve) => setImmediate(resolve));
    blocks.push(block('e'));
    await blocks.flush(false);
    expect(written).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('waits for a block out when too many are queued, and fails where a block failed', async () => {
    const written: string[] = [];
    const blocks = new InOrderBlocks(masker, ({ out }) => {
      written.push(out.toString());
    });
    const slow = later();
    blocks.push(slow.promise);
    for (const letter of 'bcdef') blocks.push(block(letter));
    const flushed = blocks.flush(false);
    setImmediate(() => slow.resolve(Buffer.from('a')));
    await flushed;
    expect(written.join('')).toBe('abcdef');
    const failing = later();
    blocks.push(failing.promise);
    failing.reject(new Error('row 7 of public.t: not a date'));
    await expect(blocks.flush(true)).rejects.toThrow('not a date');
  });
});
