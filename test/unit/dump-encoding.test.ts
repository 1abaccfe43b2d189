import { describe, expect, it } from 'vitest';
import { DumpEncodingError, scriptText, transcoderFor, utf8Chunks } from '../../src/dump/dump-encoding.js';

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

  it('reads LATIN5 as ISO 8859-9 exactly (six Turkish letters, C1 controls kept)', () => {
    expect(
      transcoderFor('LATIN5')
        ?.chunk(Buffer.from([0xd0, 0xdd, 0xde, 0xf0, 0xfd, 0xfe, 0xfc, 0x80]))
        .toString('utf8'),
    ).toBe('ĞİŞğışü\u0080');
  });

  it('lets ASCII through an encoding it cannot decode, and stops at the first other byte, naming it', async () => {
    expect(await collect([Buffer.from('COPY t (a) FROM stdin;\nabc\n')], 'MULE_INTERNAL')).toBe(
      'COPY t (a) FROM stdin;\nabc\n',
    );
    const refused = collect([Buffer.from([0x61, 0x0a]), Buffer.from([0x81, 0x0a])], 'MULE_INTERNAL');
    await expect(refused).rejects.toThrow(DumpEncodingError);
    await expect(refused).rejects.toThrow(/MULE_INTERNAL, which this tool cannot decode/);
    await expect(collect([Buffer.from([0x41, 0xff, 0xff])], 'EUC_JP')).rejects.toThrow(/not valid EUC_JP/);
    // A bad backup, with what to do.
    expect(new DumpEncodingError('x').hint).toMatch(/pg_dump --encoding=UTF8/);
  });

  it('looks for SET client_encoding only before the first COPY line', async () => {
    // A data row that reads like the line must not switch a UTF-8 stream to LATIN1.
    const bytes = Buffer.from(
      "COPY public.t (a) FROM stdin;\nSET client_encoding = 'LATIN1';\ncafé\n\\.\n",
      'utf8',
    );
    expect(await collect([bytes])).toBe(bytes.toString('utf8'));
  });

  it('reads a whole pg_restore script in the encoding its SET line names, UTF-8 without one', () => {
    const latin1 = Buffer.from(
      "SET client_encoding = 'LATIN1';\nCREATE UNIQUE INDEX i ON t (k\xfcrzel);\n",
      'latin1',
    );
    expect(scriptText(latin1)).toBe(
      "SET client_encoding = 'LATIN1';\nCREATE UNIQUE INDEX i ON t (kürzel);\n",
    );
    expect(scriptText(Buffer.from('CREATE INDEX i ON t (kürzel);\n', 'utf8'))).toBe(
      'CREATE INDEX i ON t (kürzel);\n',
    );
  });
});
