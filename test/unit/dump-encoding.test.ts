import { describe, expect, it } from 'vitest';
import { DumpEncodingError, transcoderFor, utf8Chunks } from '../../src/dump/dump-encoding.js';

async function collect(chunks: Buffer[], encoding?: string): Promise<string> {
  async function* source() {
    yield* chunks;
  }
  const out: Buffer[] = [];
  for await (const chunk of utf8Chunks(source(), encoding)) out.push(chunk);
  return Buffer.concat(out).toString('utf8');
}

describe('dump encodings', () => {
  it('reads LATIN1 as ISO 8859-1 exactly (0x80–0x9F are C1 controls, not windows-1252)', () => {
    const latin1 = transcoderFor('LATIN1');
    expect(latin1?.chunk(Buffer.from([0x4d, 0xfc, 0x6c, 0x80, 0x9f, 0xff])).toString('utf8')).toBe(
      'Mül\u0080\u009fÿ',
    );
    expect(
      transcoderFor('WIN1252')
        ?.chunk(Buffer.from([0x80, 0xfc]))
        .toString('utf8'),
    ).toBe('€ü');
  });

  it('passes UTF-8 and SQL_ASCII bytes on as they are', () => {
    expect(transcoderFor('UTF8')).toBeUndefined();
    expect(transcoderFor('SQL_ASCII')).toBeUndefined();
  });

  it('decodes a multi-byte character cut between two chunks', async () => {
    // 日本 in EUC-JP: C6 FC CB DC, cut after its third byte.
    const bytes = Buffer.from([0x41, 0xc6, 0xfc, 0xcb, 0xdc, 0x0a]);
    expect(await collect([bytes.subarray(0, 4), bytes.subarray(4)], 'EUC_JP')).toBe('A日本\n');
  });

  it("learns pg_restore's encoding from its SET client_encoding line, even split across chunks", async () => {
    const script = Buffer.concat([
      Buffer.from("SET statement_timeout = 0;\nSET client_encoding = 'LAT"),
      Buffer.from(
        "IN1';\nSET standard_conforming_strings = on;\nCOPY public.t (gr\xf6\xdfe) FROM stdin;\n",
        'latin1',
      ),
      Buffer.from('M\xfcller\n\\.\n', 'latin1'),
    ]);
    const chunks = [script.subarray(0, 40), script.subarray(40, 90), script.subarray(90)];
    expect(await collect(chunks)).toBe(
      "SET statement_timeout = 0;\nSET client_encoding = 'LATIN1';\nSET standard_conforming_strings = on;\nCOPY public.t (größe) FROM stdin;\nMüller\n\\.\n",
    );
    // Without the line, the bytes are what they were.
    const bare = Buffer.from('COPY public.t (x) FROM stdin;\n\xfc\n', 'latin1');
    expect((await collect([bare])) === bare.toString('utf8')).toBe(true);
  });

  it('refuses an encoding it cannot read, and bytes that are not the encoding, saying which', async () => {
    expect(() => transcoderFor('MULE_INTERNAL')).toThrow(DumpEncodingError);
    expect(() => transcoderFor('MULE_INTERNAL')).toThrow(
      /MULE_INTERNAL is not one the masked tables can be read in/,
    );
    await expect(collect([Buffer.from([0x41, 0xff, 0xff])], 'EUC_JP')).rejects.toThrow(/not valid EUC_JP/);
  });
});
