import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CopyLines } from '../../src/anonymize/copy-lines.js';
import { KeyedPrf } from '../../src/anonymize/prf/keyed-prf.js';
import { type ColumnRuleInput, parseRule } from '../../src/anonymize/strategies/registry.js';
import { compileTableTransform } from '../../src/anonymize/table-transform.js';
import { encodeField } from '../../src/format/copy-text.js';

const prf = new KeyedPrf('copy-lines-secret');
const COLUMNS = ['id', 'email', 'note', 'card'];
const compile = (rules: Record<string, ColumnRuleInput>) => (columns: string[]) =>
  compileTableTransform(
    'public.t',
    columns,
    Object.fromEntries(Object.entries(rules).map(([column, rule]) => [column, parseRule(rule)])),
    new Map(),
    prf,
    'example.invalid',
  );

/** pg_restore's output for one table: preamble, header, data lines, `\.`, trailer. */
function archiveText(rows: (string | null)[][]): string {
  const data = rows.map((row) => `${row.map(encodeField).join('\t')}\n`).join('');
  return `--\n-- PostgreSQL database dump\n--\nSET client_encoding = 'UTF8';\n\nCOPY public.t (${COLUMNS.join(', ')}) FROM stdin;\n${data}\\.\n\n--\n-- done\n`;
}

describe('COPY stream lines', () => {
  const value = fc.option(
    fc.oneof(
      fc.string({ unit: 'grapheme' }),
      // values that end in a backslash and a dot, or are one: `\.` is only the end at a line start
      fc.constantFrom('\\.', 'x\\', '\\', '.', '\\.\n', 'é\\.'),
    ),
    { nil: null },
  );
  const row = fc.tuple(fc.nat().map(String), value, value, value);

  for (const [name, rules] of [
    ['field by field', { email: 'email', card: { mask: { keepFirst: 0, keepLast: 2, char: '*' } } }],
    ['with a rule that reads the row', { email: { template: 'user_{id}@example.invalid' }, note: 'hash' }],
  ] as [string, Record<string, ColumnRuleInput>][]) {
    it(`gives the same rows however the output is cut into chunks (${name})`, () => {
      fc.assert(
        fc.property(fc.array(row, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 12 }), (rows, cuts) => {
          const bytes = Buffer.from(archiveText(rows), 'utf8');
          const reference = compile(rules)(COLUMNS);
          const expected = rows.map((r) => `${reference.line(r.map(encodeField).join('\t'))}\n`).join('');
          // cut anywhere, also inside a multi-byte character
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const lines = new CopyLines(compile(rules));
          const out: Buffer[] = [];
          let header: string[] | undefined;
          let from = 0;
          for (const point of [...points, bytes.length]) {
            const pushed = lines.push(bytes.subarray(from, point));
            out.push(pushed.out);
            header ??= pushed.header;
            from = point;
          }
          expect(header).toEqual(COLUMNS);
          expect(Buffer.concat(out).toString('utf8')).toBe(expected);
          expect(lines.rows).toBe(rows.length);
          expect(lines.inData).toBe(false);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('joins only the row cut between two chunks; the rest of a chunk is masked where it lies', () => {
    const lines = new CopyLines(compile({ email: 'email' }));
    lines.cut(Buffer.from('COPY public.t (id, email, note, card) FROM stdin;\n1\ta@b.c\tx\ty\n2\tc@'));
    const chunk = Buffer.from('d.e\tx\ty\n3\te@f.g\tx\ty\n4\th@i.j\tx\ty\n5\t');
    const { spans } = lines.cut(chunk);
    expect(spans.map((span) => span.toString())).toEqual([
      '2\tc@d.e\tx\ty\n',
      '3\te@f.g\tx\ty\n4\th@i.j\tx\ty\n',
    ]);
    // The second span is a view into the chunk, not a copy of it.
    expect(spans[1]?.buffer).toBe(chunk.buffer);
    expect(spans[1]?.byteOffset).toBe(chunk.byteOffset + chunk.indexOf('3\t'));
  });

  it('is still in the data when the output stops before `\\.`', () => {
    const lines = new CopyLines(compile({ email: 'email' }));
    lines.push(Buffer.from('COPY public.t (id, email, note, card) FROM stdin;\n1\ta@b.c\tx\ty\n2\tc@d'));
    expect(lines.inData).toBe(true);
    expect(lines.rows).toBe(1);
  });
});
