// A dump's COPY text is in its database's encoding (pg_dump writes `SET client_encoding = '…'`,
// and pg_restore loads the unmasked tables under it). The masked tables are read, masked and
// loaded as UTF-8 (the COPY connection's client_encoding; the server converts to the staging
// database's encoding), so their text is transcoded where it is read: a LATIN1 database's column
// names and values are then the characters they are — masked as the same text from a UTF-8
// database would be, so values still join — instead of bytes that are not UTF-8.
import { TextDecoder } from 'node:util';
import { BadBackupError } from '../errors.js';

/** PostgreSQL's server encodings that are not UTF-8 → the WHATWG label of the same encoding. */
const DECODERS: Record<string, string> = {
  LATIN2: 'iso-8859-2',
  LATIN3: 'iso-8859-3',
  LATIN4: 'iso-8859-4',
  LATIN6: 'iso-8859-10',
  LATIN7: 'iso-8859-13',
  LATIN8: 'iso-8859-14',
  LATIN9: 'iso-8859-15',
  ISO_8859_5: 'iso-8859-5',
  ISO_8859_6: 'iso-8859-6',
  ISO_8859_7: 'iso-8859-7',
  ISO_8859_8: 'iso-8859-8',
  KOI8R: 'koi8-r',
  KOI8U: 'koi8-u',
  WIN866: 'ibm866',
  WIN874: 'windows-874',
  WIN1250: 'windows-1250',
  WIN1251: 'windows-1251',
  WIN1252: 'windows-1252',
  WIN1253: 'windows-1253',
  WIN1254: 'windows-1254',
  WIN1255: 'windows-1255',
  WIN1256: 'windows-1256',
  WIN1257: 'windows-1257',
  WIN1258: 'windows-1258',
  EUC_JP: 'euc-jp',
  EUC_KR: 'euc-kr',
  // WHATWG's euc-kr is UHC (windows-949) and its gbk reads GB2312's EUC-CN: supersets.
  UHC: 'euc-kr',
  EUC_CN: 'gbk',
  SJIS: 'shift_jis',
  BIG5: 'big5',
  GBK: 'gbk',
  GB18030: 'gb18030',
};

/** Text this tool cannot read in the backup's encoding: the run stops, the live database untouched. */
export class DumpEncodingError extends BadBackupError {
  constructor(message: string) {
    super(message, {
      hint: 'dump the database as UTF-8 (pg_dump --encoding=UTF8: the server converts, the restored database keeps its own encoding); the live staging database was not touched',
    });
  }
}

/** Bytes in → the same text as UTF-8 bytes; `end` gives what a multi-byte decoder still holds. */
interface Transcoder {
  chunk(bytes: Buffer): Buffer;
  end(): Buffer;
}

/**
 * How to turn text in `encoding` (a name as `SET client_encoding` writes it) into UTF-8, or
 * undefined where its bytes already are (UTF8; SQL_ASCII, whose bytes go on as they are, as
 * pg_restore sends them).
 */
export function transcoderFor(encoding: string): Transcoder | undefined {
  const name = encoding.toUpperCase().replace(/-/g, '_');
  if (name === 'UTF8' || name === 'UTF_8' || name === 'UNICODE' || name === 'SQL_ASCII') return undefined;
  // ISO 8859-1 exactly (0x80–0x9F are C1 controls, as PostgreSQL maps them), which the WHATWG
  // "iso-8859-1" label is not (it means windows-1252).
  if (name === 'LATIN1' || name === 'ISO_8859_1')
    return singleByte((bytes) => bytes.latin1Slice(0, bytes.length));
  // ISO 8859-9: ISO 8859-1 with six Turkish letters in place of six Icelandic ones (WHATWG's
  // "iso-8859-9" is windows-1254).
  if (name === 'LATIN5' || name === 'ISO_8859_9')
    return singleByte((bytes) =>
      bytes.latin1Slice(0, bytes.length).replace(LATIN5_DIFFERS, (char) => LATIN5[char] ?? char),
    );
  const label = DECODERS[name];
  let decoder: TextDecoder | undefined;
  try {
    decoder = label ? new TextDecoder(label, { fatal: true }) : undefined;
  } catch {
    decoder = undefined; // a Node without full ICU
  }
  if (!decoder) return asciiOnly(encoding);
  const decode = (bytes?: Buffer, stream = true) => {
    try {
      return Buffer.from((decoder as TextDecoder).decode(bytes, { stream }), 'utf8');
    } catch (error) {
      throw new DumpEncodingError(`the backup's text is not valid ${encoding}: ${(error as Error).message}`);
    }
  };
  return { chunk: (bytes) => decode(bytes), end: () => decode(undefined, false) };
}

/** A single-byte encoding's chunks decoded by `text` (no state between chunks). */
function singleByte(text: (bytes: Buffer) => string): Transcoder {
  return { chunk: (bytes) => Buffer.from(text(bytes), 'utf8'), end: () => EMPTY };
}

/** ISO 8859-9's six letters that ISO 8859-1 reads otherwise (0xD0 0xDD 0xDE 0xF0 0xFD 0xFE). */
const LATIN5: Record<string, string> = { Ð: 'Ğ', Ý: 'İ', Þ: 'Ş', ð: 'ğ', ý: 'ı', þ: 'ş' };
const LATIN5_DIFFERS = /[ÐÝÞðýþ]/g;

/**
 * An encoding Node cannot decode (MULE_INTERNAL, EUC_TW, LATIN10…): ASCII is the same bytes in
 * it, so a backup whose text is ASCII goes on; the first other byte stops the run, naming it.
 */
function asciiOnly(encoding: string): Transcoder {
  return {
    chunk: (bytes) => {
      for (let index = 0; index < bytes.length; index++)
        if ((bytes[index] as number) > 0x7f)
          throw new DumpEncodingError(
            `the backup is in ${encoding}, which this tool cannot decode, and its text is not all ASCII`,
          );
      return bytes;
    },
    end: () => EMPTY,
  };
}

/** What `SET client_encoding` names in a script's first lines, if they say. */
const SET_ENCODING = /^SET client_encoding = '([^']*)';$/m;
/** A preamble longer than this without the COPY line is not pg_restore's: nothing to learn from it. */
const PREAMBLE_MAX = 64 * 1024;

/**
 * The encoding a script's `SET client_encoding` names among its first bytes, looked for only
 * before the first COPY line (a data row may read like anything), and whether that line came.
 */
function preamble(bytes: Buffer): { named: string | undefined; copy: boolean } {
  const text = bytes.latin1Slice(0, Math.min(bytes.length, PREAMBLE_MAX));
  const copy = /^COPY /m.exec(text);
  const named = SET_ENCODING.exec(copy ? text.slice(0, copy.index) : text)?.[1];
  return { named, copy: copy !== null };
}

/**
 * A table's COPY text as UTF-8, chunk by chunk. `encoding` is the archive's, where its table of
 * contents was read; else (pg_restore's output) the `SET client_encoding` before the COPY line says.
 */
export async function* utf8Chunks(chunks: AsyncIterable<Buffer>, encoding?: string): AsyncGenerator<Buffer> {
  let transcoder = encoding === undefined ? undefined : transcoderFor(encoding);
  let known = encoding !== undefined;
  let head: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    if (!known) {
      head.push(chunk);
      size += chunk.length;
      const { named, copy } = preamble(Buffer.concat(head, size));
      if (named === undefined && !copy && size < PREAMBLE_MAX) continue;
      known = true;
      if (named !== undefined) transcoder = transcoderFor(named);
      const all = Buffer.concat(head, size);
      head = [];
      yield transcoder ? transcoder.chunk(all) : all;
      continue;
    }
    yield transcoder ? transcoder.chunk(chunk) : chunk;
  }
  if (head.length > 0) yield Buffer.concat(head, size);
  const rest = transcoder?.end();
  if (rest && rest.length > 0) yield rest;
}

/**
 * A whole script pg_restore printed (`--file=-`), as text: in the encoding its `SET
 * client_encoding` names, UTF-8 without one.
 */
export function scriptText(bytes: Buffer): string {
  const { named } = preamble(bytes);
  const transcoder = named === undefined ? undefined : transcoderFor(named);
  if (!transcoder) return bytes.toString('utf8');
  return Buffer.concat([transcoder.chunk(bytes), transcoder.end()]).toString('utf8');
}

const EMPTY = Buffer.alloc(0);
