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
   */
  cut(chunk: Buffer): { spans: Buffer[]; header?: string[] } {
    if (chunk.lastIndexOf(10) === -1) {
      this.pending.push(chunk);
      return { spans: [] };
    }
    const bytes = this.pending.length > 0 ? Buffer.concat([...this.pending, chunk]) : chunk;
    this.pending = [];
    const last = bytes.lastIndexOf(10);
    const spans: Buffer[] = [];
    let header: string[] | undefined;
    let position = 0;
    while (position <= last) {
      if (this.inData) {
        // The data runs to the end-of-data line `\.` or to the last whole line of the chunk.
        // A `\.` is only that line at the start of one: inside data a backslash is escaped.
        let marker = bytes.indexOf(END_OF_DATA, position);
        while (marker !== -1 && marker !== position && bytes[marker - 1] !== 10)
          marker = bytes.indexOf(END_OF_DATA, marker + 1);
        const stop = marker !== -1 && marker <= last ? marker : last + 1;
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
    if (last + 1 < bytes.length) this.pending.push(bytes.subarray(last + 1));
    return header ? { spans, header } : { spans };
  }
}

const EMPTY = Buffer.alloc(0);
