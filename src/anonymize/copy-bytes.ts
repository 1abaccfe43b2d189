// COPY text on bytes: the masked table's stream stays in Buffers from pg_restore's pipe to the
// COPY connection. Only the ruled fields become strings (for their maskers); every other byte —
// the rest of a row, the newlines — is copied as it came. Decoding the whole stream to a string
// and encoding it back for the COPY cost more than a third of a users table's masking (profiled:
// StringDecoder, the concatenated output flattened and re-encoded by the COPY stream).

import { encodeField } from '../format/copy-text.js';
import type { FieldSink } from './strategies/strategy.js';

const BACKSLASH = 92;
const TAB = 9;

/**
 * Runs shorter than this are copied by 32-bit words through DataViews; longer ones by Buffer#copy,
 * whose call costs about as much as a word loop over ~130 bytes (measured on one core: a 45-byte
 * run 96 ns byte by byte, 14 ns by words, 135 ns by Buffer#copy at any length up to ~100 bytes).
 */
const WORD_COPY_MAX = 128;
/** Sources whose DataViews a sink keeps: a block, and the few buffers maskers copy from (memo arenas, a fixed tail). */
const VIEWS = 8;

/** Where masked rows are written: one Buffer that grows, handed on as a whole at the end. */
export class ByteSink implements FieldSink {
  private buffer: Buffer;
  /** A DataView over `buffer`. */
  private view: DataView;
  /** Recent sources and DataViews over them (round robin): a view per copy was an allocation a row. */
  private readonly sources: (Buffer | undefined)[] = new Array(VIEWS).fill(undefined);
  private readonly sourceViews: (DataView | undefined)[] = new Array(VIEWS).fill(undefined);
  private nextView = 0;
  /** How many bytes are written. */
  length = 0;

  constructor(capacity: number) {
    // Never from the shared pool: a helper thread transfers the buffer (tiny ones would come from it).
    this.buffer = Buffer.allocUnsafeSlow(Math.max(256, capacity));
    this.view = viewOf(this.buffer);
  }

  /** The buffer, with room for `bytes` more after `length` (write there, then `advance`). */
  reserve(bytes: number): Buffer {
    if (this.length + bytes > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.length + bytes));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
      this.view = viewOf(grown);
    }
    return this.buffer;
  }

  /**
   * Copies bytes [start, end) of `source`: short runs four bytes at a time through DataViews (no
   * view allocated a row: a subarray per row was 12 % of a users table's masking, and byte by byte
   * was ~2 ns a byte), longer ones by Buffer#copy.
   */
  copy(source: Buffer, start: number, end: number): void {
    const count = end - start;
    if (count <= 0) return;
    const target = this.reserve(count);
    let at = this.length;
    if (count >= WORD_COPY_MAX) {
      source.copy(target, at, start, end);
      this.length += count;
      return;
    }
    const from = this.viewFor(source);
    const to = this.view;
    let index = start;
    for (; index + 4 <= end; index += 4, at += 4) to.setUint32(at, from.getUint32(index, true), true);
    for (; index < end; index++) target[at++] = source[index] as number;
    this.length = at;
  }

  /** A DataView over `source` (the same bytes, from its offset). */
  private viewFor(source: Buffer): DataView {
    for (let slot = 0; slot < VIEWS; slot++)
      if (this.sources[slot] === source) return this.sourceViews[slot] as DataView;
    const view = viewOf(source);
    const slot = this.nextView;
    this.nextView = (slot + 1) % VIEWS;
    this.sources[slot] = source;
    this.sourceViews[slot] = view;
    return view;
  }

  /** Writes `count` copies of the byte `byte`. */
  repeat(byte: number, count: number): void {
    if (count <= 0) return;
    const target = this.reserve(count);
    let at = this.length;
    const end = at + count;
    if (count >= WORD_COPY_MAX) target.fill(byte, at, end);
    else {
      // Buffer#fill's call costs more than a short run of stores.
      const word = Math.imul(byte, 0x01010101);
      const view = this.view;
      for (; at + 4 <= end; at += 4) view.setUint32(at, word);
      for (; at < end; at++) target[at] = byte;
    }
    this.length = end;
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
 * `view` is a DataView over `source`: four bytes at a time while none is a control character, a
 * backslash or above 0x7f (the bytes of most fields), then byte by byte.
 */
export function fieldEnd(source: Buffer, view: DataView, start: number, newline: number): number {
  let index = start;
  for (; index + 4 <= newline; index += 4) {
    const word = view.getUint32(index, true);
    const slash = word ^ 0x5c5c5c5c;
    // Any byte ≥ 0x80; else any byte < 0x20; any byte equal to 0x5c (SWAR: no false negatives,
    // and a false positive only stops the word loop early).
    if (
      ((word & 0x80808080) |
        ((word - 0x20202020) & ~word & 0x80808080) |
        ((slash - 0x01010101) & ~slash & 0x80808080)) !==
      0
    )
      break;
  }
  let kind = PLAIN;
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

/** The index of the next tab at or after `start` before `newline`, or `newline` (`view` over `source`). */
export function nextTab(source: Buffer, view: DataView, start: number, newline: number): number {
  let index = start;
  for (; index + 4 <= newline; index += 4) {
    const tabs = view.getUint32(index, true) ^ 0x09090909;
    if (((tabs - 0x01010101) & ~tabs & 0x80808080) !== 0) break;
  }
  while (index < newline && source[index] !== TAB) index++;
  return index;
}

/** A DataView over a Buffer's bytes. */
export function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
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
