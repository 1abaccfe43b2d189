import { describe, expect, it } from 'vitest';
import { firstLines } from '../../src/anonymize/value-sampling.js';

// The PII gate reads a table's first rows chunk by chunk (pg_restore's pipe: 4 KiB at a time): a
// character cut between two chunks is still one character.

async function* chunksOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('the first COPY lines of a table', () => {
  const text = 'SET x = 1;\nCOPY public.t (id, note) FROM stdin;\n1\tü €\n2\t日本\n3\t😀 x\n\\.\n\n';
  it('decodes characters cut between chunks, at every chunk size', async () => {
    const bytes = Buffer.from(text, 'utf8');
    for (let size = 1; size <= bytes.length; size++) {
      const { header, lines } = await firstLines(chunksOf(bytes, size), 10);
      expect(header, `chunks of ${size}`).toEqual(['id', 'note']);
      expect(lines, `chunks of ${size}`).toEqual(['1\tü €', '2\t日本', '3\t😀 x']);
    }
  });

  it('stops at the number of rows asked for', async () => {
    const { lines } = await firstLines(chunksOf(Buffer.from(text, 'utf8'), 7), 2);
    expect(lines).toEqual(['1\tü €', '2\t日本']);
  });
});
