// The `pg_restore --data-only -t … -f -` output of one table, chunk by chunk: the lines before
// the COPY header are dropped, the header gives the columns (and so the transform), the data
// lines up to `\.` come back masked, in whole lines.
import { StringDecoder } from 'node:string_decoder';
import { parseCopyHeader } from './copy-text.js';
import type { TableTransform } from './table-transform.js';

export class CopyLines {
  transform: TableTransform | undefined;
  /** Between the header and `\.`. */
  inData = false;
  rows = 0;
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly compile: (columns: string[]) => TableTransform) {}

  /** The masked data lines of `chunk` (each ending in a newline), and the columns when the header was in it. */
  push(chunk: Buffer): { out: string; header?: string[] } {
    const text = this.pending + this.decoder.write(chunk);
    const last = text.lastIndexOf('\n');
    let out = '';
    let header: string[] | undefined;
    let position = 0;
    while (position <= last) {
      if (this.inData) {
        // The data runs to the end-of-data line `\.` or to the last whole line of the chunk.
        // A `\.` is only that line at the start of one: inside data a backslash is escaped.
        let marker = text.indexOf('\\.\n', position);
        while (marker !== -1 && marker !== position && text.charCodeAt(marker - 1) !== 10)
          marker = text.indexOf('\\.\n', marker + 1);
        const stop = marker !== -1 && marker <= last ? marker : last + 1;
        const masked = (this.transform as TableTransform).rows(text, position, stop);
        out += masked.out;
        this.rows += masked.rows;
        if (stop === marker) {
          this.inData = false;
          position = marker + 3;
        } else position = stop;
        continue;
      }
      const end = text.indexOf('\n', position);
      const line = text.slice(position, end);
      position = end + 1;
      const parsed = line.startsWith('COPY ') ? parseCopyHeader(line) : undefined;
      if (parsed) {
        header = parsed.columns;
        this.transform = this.compile(parsed.columns);
        this.inData = true;
      }
    }
    this.pending = text.slice(last + 1);
    return header ? { out, header } : { out };
  }
}
