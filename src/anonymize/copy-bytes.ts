// COPY text on bytes: the masked table's stream stays in Buffers from pg_restore's pipe to the
// COPY connection. Only the ruled fields become strings (for their maskers); every other byte —
// the rest of a row, the newlines — is copied as it came. Decoding the whole stream to a string
// and encoding it back for the COPY cost more than a third of a users table's masking (profiled:
// StringDecoder, the concatenated output flattened and re-encoded by the COPY stream).

import { encodeField } from '../format/copy-text.js';
import type { FieldSink } from './strategies/strategy.js';

const BACKSLASH = 92;
const TAB = 9;

/** Where masked rows are written: one Buffer that grows, handed on as a whole at the end. */
export class ByteSink implements FieldSink {
  private buffer: Buffer;
  /** How many bytes are written. */
  length = 0;

  constructor(capacity: number) {
    // Never from the shared pool: a helper thread transfers the buffer (tiny ones would come from it).
    this.buffer = Buffer.allocUnsafeSlow(Math.max(256, capacity));
  }

  /** The buffer, with room for `bytes` more after `length` (write there, then `advance`). */
  reserve(bytes: number): Buffer {
    if (this.length + bytes > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + bytes));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return this.buffer;
  }

  /**
   * Copies bytes [start, end) of `source`: short runs byte by byte (cheaper than a call), longer
   * ones by Buffer#copy (no view allocated: a subarray per row was 12 % of a users table's masking).
   */
  copy(source: Buffer, start: number, end: number): void {
    const count = end - start;
    if (count <= 0) return;
    const target = this.reserve(count);
    let at = this.length;
    if (count < 48) for (let index = start; index < end; index++) target[at++] = source[index] as number;
    else source.copy(target, at, start, end);
    this.length += count;
  }

  /** Writes `count` copies of the byte `byte`. */
  repeat(byte: number, count: number): void {
    if (count <= 0) return;
    const target = this.reserve(count);
    target.fill(byte, this.length, this.length + count);
    this.length += count;
  }

  /** Writes a value as a COPY text field (`\N` for null, backslash escapes), in UTF-8. */
  field(value: string | null): void {
    if (value === null) {
      const target = this.reserve(2);
      target[this.length] = BACKSLASH;
      target[this.length + 1] = 78;
      this.length += 2;
      return;
    }
    // ASCII without characters COPY escapes: code units are bytes. Anything else: the encoder.
    // At most 3 bytes a UTF-16 code unit (an escape is 2).
    const target = this.reserve(value.length * 3);
    let at = this.length;
    for (let index = 0; index < value.length; index++) {
      const code = value.charCodeAt(index);
      if (code > 0x7f) {
        // Buffer's own UTF-8 writer (not write(): its argument checks cost more than the copy).
        this.length += target.utf8Write(encodeField(value), this.length, target.length - this.length);
        return;
      }
      if (code === BACKSLASH || (code >= 8 && code <= 13)) {
        target[at++] = BACKSLASH;
        target[at++] = ESCAPE_LETTER[code] as number;
      } else target[at++] = code;
    }
    this.length = at;
  }

  /** The bytes written. */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

/** The letter after the backslash for each character COPY escapes (index: the character code). */
const ESCAPE_LETTER: Record<number, number> = { 8: 98, 9: 116, 10: 110, 11: 118, 12: 102, 13: 114, 92: 92 };

/** A field of ASCII without a backslash (no escape, not `\N`): its bytes are its characters. */
export const PLAIN = 0;
/** A field without a backslash, not all ASCII, valid UTF-8: its bytes are its value's UTF-8. */
export const UTF8 = 1;
/**
 * Anything else, decoded on the string path: an escape (or `\N`); a raw control character COPY
 * would have escaped (8–13: not what pg_dump writes, but a hand-made file may hold one); bytes
 * that are not UTF-8 (a LATIN1 database's 'ü'), which decoding replaces with U+FFFD.
 */
export const ESCAPED = 2;

/** Where fieldEnd left the kind of the field it scanned. */
export const scanned = { kind: PLAIN };

/**
 * The end of the field that starts at `start` (its tab, or `newline`), found in the same pass that
 * tells which of PLAIN, UTF8 and ESCAPED it is (left in `scanned.kind`): fields are short, and a loop
 * over their bytes costs less than a native search per field plus a second scan for the kind.
 */
export function fieldEnd(source: Buffer, start: number, newline: number): number {
  let kind = PLAIN;
  let index = start;
  for (; index < newline; index++) {
    const code = source[index] as number;
    if (code < 0x20) {
      if (code === TAB) break;
      if (code >= 8 && code <= 13) kind = ESCAPED;
    } else if (code === BACKSLASH) kind = ESCAPED;
    else if (code > 0x7f && kind !== ESCAPED) {
      // A sequence cannot hold a tab (continuation bytes are 0x80–0xBF): bounded by the row is
      // the same verdict as bounded by the field.
      const length = utf8Sequence(source, index, newline);
      if (length === 0) kind = ESCAPED;
      else {
        index += length - 1;
        kind = UTF8;
      }
    }
  }
  scanned.kind = kind;
  return index;
}

/** The index of the next tab at or after `start` before `newline`, or `newline`. */
export function nextTab(source: Buffer, start: number, newline: number): number {
  let index = start;
  while (index < newline && source[index] !== TAB) index++;
  return index;
}

/**
 * The length of the well-formed UTF-8 sequence at source[at] (its lead byte ≥ 0x80), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629 — what a decoder takes
 * without a replacement character).
 */
function utf8Sequence(source: Buffer, at: number, end: number): number {
  const lead = source[at] as number;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    else if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    else if (lead === 0xf4) high = 0x8f;
  } else return 0;
  if (at + length > end) return 0;
  const second = source[at + 1] as number;
  if (second < low || second > high) return 0;
  for (let next = at + 2; next < at + length; next++) {
    const byte = source[next] as number;
    if (byte < 0x80 || byte > 0xbf) return 0;
  }
  return length;
}

/** A field's raw bytes [start, end) as its value: null for `\N`; escapes decoded by `decode`. */
export function fieldValue(
  source: Buffer,
  start: number,
  end: number,
  kind: number,
  decode: (raw: string) => string | null,
): string | null {
  if (kind === PLAIN) return source.latin1Slice(start, end);
  return decode(source.utf8Slice(start, end));
}

// Node's Buffer has latin1Slice/utf8Slice (what toString('latin1' | 'utf8', …) calls after checking
// its arguments) on every version the tool supports; @types/node does not declare them.
declare global {
  interface Buffer {
    latin1Slice(start: number, end: number): string;
    utf8Write(text: string, offset: number, length: number): number;
    utf8Slice(start: number, end: number): string;
  }
}
