// The `pg_restore --data-only -t … -f -` output of one table, chunk by chunk: the lines before
// the COPY header are dropped, the header gives the columns (and so the transform), the data
// lines up to `\.` come back masked, in whole lines — as bytes, never decoded as a whole.
import { parseCopyHeader } from '../format/copy-text.js';
import type { TableTransform } from './table-transform.js';

const END_OF_DATA = Buffer.from('\\.\n');

export class CopyLines {
  transform: TableTransform | undefined;
  /** Between the header and `\.`. */
  inData = false;
  rows = 0;
  /** Bytes of a line not yet whole (kept as pieces: one long value must not be copied per chunk). */
  private pending: Buffer[] = [];

  constructor(private readonly compile: (columns: string[]) => TableTransform) {}

  /** The masked data lines of `chunk` (each ending in a newline), and the columns when the header was in it. */
  push(chunk: Buffer): { out: Buffer; header?: string[] } {
    const { spans, header } = this.cut(chunk);
    const out: Buffer[] = [];
    for (const span of spans) {
      const masked = (this.transform as TableTransform).bytes(span, 0, span.length);
      out.push(masked.out);
      this.rows += masked.rows;
    }
    const masked = out.length === 0 ? EMPTY : out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
    return header ? { out: masked, header } : { out: masked };
  }

  /**
   * The data lines of `chunk` not yet masked: spans of whole lines, each to be masked by the
   * transform (here, or by a helper thread holding the same transform); `rows` is not counted.
   * The line cut at the end of the previous chunk is joined with its rest on its own, a span of
   * one line: the chunk is not copied to join it (a copy of every chunk was a third of the
   * buffers a masked table allocates, and each one brings the next garbage collection nearer).
   */
  cut(chunk: Buffer): { spans: Buffer[]; header?: string[] } {
    const spans: Buffer[] = [];
    let header: string[] | undefined;
    let rest = chunk;
    if (this.pending.length > 0) {
      const newline = chunk.indexOf(10);
      if (newline === -1) {
        this.pending.push(chunk);
        return { spans };
      }
      header = this.lines(Buffer.concat([...this.pending, chunk.subarray(0, newline + 1)]), spans);
      this.pending = [];
      rest = chunk.subarray(newline + 1);
    }
    const last = rest.lastIndexOf(10);
    if (last !== -1) header = this.lines(rest.subarray(0, last + 1), spans) ?? header;
    if (last + 1 < rest.length) this.pending.push(rest.subarray(last + 1));
    return header ? { spans, header } : { spans };
  }

  /** The spans of data lines in `bytes` (whole lines) into `spans`; the columns if a header was there. */
  private lines(bytes: Buffer, spans: Buffer[]): string[] | undefined {
    let header: string[] | undefined;
    let position = 0;
    while (position < bytes.length) {
      if (this.inData) {
        // The data runs to the end-of-data line `\.` or to the end of these lines. A `\.` is
        // only that line at the start of one: inside data a backslash is escaped.
        let marker = bytes.indexOf(END_OF_DATA, position);
        while (marker !== -1 && marker !== position && bytes[marker - 1] !== 10)
          marker = bytes.indexOf(END_OF_DATA, marker + 1);
        const stop = marker !== -1 ? marker : bytes.length;
        if (stop > position) spans.push(bytes.subarray(position, stop));
        if (stop === marker) {
          this.inData = false;
          position = marker + 3;
        } else position = stop;
        continue;
      }
      const end = bytes.indexOf(10, position);
      const line = bytes.utf8Slice(position, end);
      position = end + 1;
      const parsed = line.startsWith('COPY ') ? parseCopyHeader(line) : undefined;
      if (parsed) {
        header = parsed.columns;
        this.transform = this.compile(parsed.columns);
        this.inData = true;
      }
    }
    return header;
  }
}

const EMPTY = Buffer.alloc(0);
