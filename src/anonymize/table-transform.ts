// One table's transform: the COPY column order, a compiled masker per ruled column, and a sample
// of rows (their unmasked fields and masked originals) for the row-aligned leak check after the restore.

import { decodeField, encodeField } from '../format/copy-text.js';
import { BytesMemo } from './bytes-memo.js';
import { ByteSink, fieldEnd, fieldValue, nextTab, PLAIN, scanned, UTF8, viewOf } from './copy-bytes.js';
import { LeakSampler, type TableLeakSample, worthChecking } from './leak-sampler.js';
import { memoMasker } from './memo-masker.js';
import type { KeyRecorder } from './output-ledger.js';
import type { KeyedPrf } from './prf/keyed-prf.js';
import {
  type BytesMasker,
  type ColumnRule,
  compileRule,
  compileRuleBytes,
  leakCheckable,
  type Masker,
  memoizable,
  type RowAccess,
  usesRow,
} from './strategies/registry.js';
import { ledgerMaskers, uniqueMaskers } from './unique-masker.js';

type Flush = NonNullable<BytesMasker['flush']>;

/**
 * Runs what the columns owe at the end of a block, outside the block's code: called from there, a
 * table's own flush (a closure new to the code, compiled on the warm-up's) failed the call's target
 * check and dropped the block's code out of its compiled form at every block — V8 keeps that code
 * — 39 times in a 50k-row users table.
 */
function flushAll(flushes: readonly Flush[], sink: ByteSink): void {
  for (let index = 0; index < flushes.length; index++) (flushes[index] as Flush)(sink);
}

export interface TableTransform {
  /** Masks one COPY data line (without its newline). */
  line(text: string): string;
  /**
   * Masks the COPY data lines in text[start, end), which ends just after a newline, and returns
   * them. Where no rule reads the row, only the masked fields are cut out of the text: the bytes
   * between them — the rest of a row, the newline, the start of the next — are copied as one
   * slice, and no row becomes a string of its own.
   */
  rows(text: string, start: number, end: number): { out: string; rows: number };
  /**
   * The same on bytes: masks the COPY data lines in source[start, end) (UTF-8, ending just after a
   * newline) into a new Buffer of its own (never from the shared pool: it may be transferred to
   * another thread). Byte for byte what `rows` gives for the same text.
   */
  bytes(source: Buffer, start: number, end: number): { out: Buffer; rows: number };
  /** The rows sampled so far for the leak check. */
  leakSample(): TableLeakSample;
}

/** Compiles the rules of one table against its real columns; unknown columns are an error. */
export function compileTableTransform(
  table: string,
  columns: readonly string[],
  rules: Readonly<Record<string, ColumnRule>>,
  types: ReadonlyMap<string, string>,
  prf: KeyedPrf,
  domain: string,
  /** Columns with a unique key of their own: their masked values are kept distinct. */
  unique: ReadonlySet<string> = new Set(),
  /**
   * Where their outputs' keys go instead of a table in memory: a recorder per column, whose
   * keys the caller takes after each block for the column's ledger (output-ledger.ts;
   * unique-repair.ts re-keys after the stream), or none (plain outputs, as a repair reads them).
   */
  ledgers?: { ledger(column: string): KeyRecorder | undefined },
): TableTransform {
  const positions = new Map(columns.map((column, index) => [column, index]));
  const maskers: {
    index: number;
    column: string;
    checkable: boolean;
    /** The rule on a value (any field; a sampled row's, whose strings the leak check keeps). */
    mask: Masker;
    /** The rule on a plain field's bytes, where it has that path (through the cache, while in use). */
    plain: BytesMasker | undefined;
  }[] = [];
  /** The deferred unique column's bytes path, flushed last. */
  let settles: BytesMasker | undefined;
  for (const [column, rule] of Object.entries(rules)) {
    const index = positions.get(column);
    if (index === undefined)
      throw new Error(`anonymize.tables.${table}.${column}: the table has no column "${column}"`);
    const ctx = { prf, type: types.get(column) ?? 'text', domain };
    const mask = compileRule(rule, ctx);
    const checkable = leakCheckable(rule);
    // A unique column has no repeats to cache; it needs its outputs kept apart instead. Its
    // rule's bytes path writes at once (no batch of MACs owed), so that each output can be
    // digested where it lies; the claim of that digest may be owed (below).
    if (unique.has(column) && ledgers) {
      const both = ledgerMaskers(mask, compileRuleBytes(rule, ctx), ledgers.ledger(column));
      maskers.push({ index, column, checkable, mask: both.mask, plain: both.bytes });
      continue;
    }
    if (unique.has(column)) {
      // Its claims owed to the end of a block where it is the table's only unique column (its
      // flush, which may move what follows a re-keyed output, runs after every other).
      const deferred = unique.size === 1;
      const both = uniqueMaskers(mask, compileRuleBytes(rule, ctx), table, column, deferred);
      if (deferred) settles = both.bytes;
      maskers.push({ index, column, checkable, mask: both.mask, plain: both.bytes });
      continue;
    }
    const bytes = compileRuleBytes(rule, { ...ctx, deferred: true });
    if (!memoizable(rule)) {
      maskers.push({ index, column, checkable, mask, plain: bytes });
      continue;
    }
    // Repeated values: a cache of strings for the fields that are not plain, one of bytes for
    // those that are; a miss in the bytes cache masks at once (what is owed cannot be cached).
    const now = bytes?.flush ? compileRuleBytes(rule, ctx) : bytes;
    maskers.push({ index, column, checkable, mask: memoMasker(mask), plain: memoBytes(mask, bytes, now) });
  }
  const ruled = new Set(maskers.map((m) => m.index));
  const keyIndexes = columns.map((_, index) => index).filter((index) => !ruled.has(index));
  const sampler = new LeakSampler(
    keyIndexes.map((index) => columns[index] as string),
    maskers.filter((m) => m.checkable).map((m) => m.column),
  );
  /** The unmasked fields of a raw row, decoded. */
  const keyOf = (fields: readonly string[]) =>
    keyIndexes.map((index) => {
      const raw = fields[index];
      return raw === undefined || raw === '\\N' ? null : decodeField(raw);
    });
  const noRow: RowAccess = () => null;
  const ordered = [...maskers].sort((a, b) => a.index - b.index);
  // Most tables mask fields independently: no row access, no per-row allocation but the split.
  const fast = !Object.values(rules).some(usesRow);
  // What the columns owe at the end of a block (flushAll), the deferred unique column's last.
  const flushes = [
    ...ordered.filter(({ plain }) => plain !== settles),
    ...(settles ? [{ plain: settles }] : []),
  ]
    .map(({ plain }) => plain?.flush)
    .filter((flush): flush is Flush => flush !== undefined);
  /** The fast path of `bytes`: the masked fields cut out of the block, the rest copied as it is. */
  const maskBlock = (source: Buffer, from: number, to: number): { out: Buffer; rows: number } => {
    // Masked values are short; room for the input and some growth saves most regrowing.
    const sink = new ByteSink(to - from + ((to - from) >> 3) + 1024);
    const view = viewOf(source);
    let copied = from;
    let rows = 0;
    for (let row = from; row < to; rows++) {
      // A native search for the row's newline (rows are long); its fields are walked in
      // JavaScript (fields are short: fieldEnd, nextTab).
      const newline = source.indexOf(10, row);
      if (newline === -1 || newline >= to) throw new Error(`a COPY block of ${table} ends inside a row`);
      let field = 0;
      let position = row;
      const slot = sampler.slot();
      const originals: [string, string][] | undefined = slot >= 0 ? [] : undefined;
      for (let at = 0; at < ordered.length; at++) {
        const { index, column, checkable, mask, plain: onBytes } = ordered[at] as (typeof ordered)[number];
        for (; field < index; field++) {
          const tab = nextTab(source, view, position, newline);
          if (tab === newline) throw new Error(`a COPY row of ${table} has fewer than ${index + 1} fields`);
          position = tab + 1;
        }
        const end = fieldEnd(source, view, position, newline);
        const kind = scanned.kind;
        sink.copy(source, copied, position);
        // Bytes in, bytes out where the rule can (not for a sampled row: the leak check needs
        // the strings).
        if (
          onBytes !== undefined &&
          originals === undefined &&
          (kind === PLAIN || (kind === UTF8 && onBytes.utf8 === true))
        ) {
          onBytes(source, position, end, sink);
        } else {
          const value = fieldValue(source, position, end, kind, decodeField);
          const masked = mask(value, noRow);
          if (originals && checkable && worthChecking(value, masked)) originals.push([column, value]);
          sink.field(masked);
        }
        copied = end;
        position = end;
      }
      if (originals) sampler.put(slot, keyOf(source.utf8Slice(row, newline).split('\t')), originals);
      row = newline + 1;
    }
    sink.copy(source, copied, to);
    if (flushes.length > 0) flushAll(flushes, sink);
    return { out: sink.bytes(), rows };
  };
  return {
    leakSample: () => sampler.sample(),
    line(text) {
      // Field by field, a line is a block of one row.
      if (fast) return this.rows(`${text}\n`, 0, text.length + 1).out.slice(0, -1);
      const fields = text.split('\t');
      const decoded = new Map<number, string | null>();
      const original = (index: number): string | null => {
        if (!decoded.has(index)) decoded.set(index, decodeField(fields[index] ?? '\\N'));
        return decoded.get(index) ?? null;
      };
      const row = (column: string) => {
        const index = positions.get(column);
        return index === undefined ? null : original(index);
      };
      const out = fields.slice();
      const slot = sampler.slot();
      const originals: [string, string][] = [];
      for (const { index, column, checkable, mask } of maskers) {
        const value = original(index);
        const masked = mask(value, row);
        if (slot >= 0 && checkable && worthChecking(value, masked)) originals.push([column, value]);
        out[index] = encodeField(masked);
      }
      if (slot >= 0) sampler.put(slot, keyOf(fields), originals);
      return out.join('\t');
    },
    rows(text, from, to) {
      let out = '';
      let rows = 0;
      if (!fast) {
        for (let start = from; start < to; rows++) {
          const end = text.indexOf('\n', start);
          out += `${this.line(text.slice(start, end))}\n`;
          start = end + 1;
        }
        return { out, rows };
      }
      let copied = from;
      for (let row = from; row < to; rows++) {
        const rowEnd = text.indexOf('\n', row);
        let field = 0;
        let start = row;
        const slot = sampler.slot();
        const originals: [string, string][] | undefined = slot >= 0 ? [] : undefined;
        for (const { index, column, checkable, mask } of ordered) {
          for (; field < index; field++) {
            const tab = text.indexOf('\t', start);
            if (tab === -1 || tab > rowEnd)
              throw new Error(`a COPY row of ${table} has fewer than ${index + 1} fields`);
            start = tab + 1;
          }
          let end = text.indexOf('\t', start);
          if (end === -1 || end > rowEnd) end = rowEnd;
          const raw = text.slice(start, end);
          const value = raw === '\\N' ? null : decodeField(raw);
          const masked = mask(value, noRow);
          if (originals && checkable && worthChecking(value, masked)) originals.push([column, value]);
          out += text.slice(copied, start) + encodeField(masked);
          copied = end;
        }
        if (originals) sampler.put(slot, keyOf(text.slice(row, rowEnd).split('\t')), originals);
        row = rowEnd + 1;
      }
      return { out: out + text.slice(copied, to), rows };
    },
    bytes(source, from, to) {
      if (!fast) {
        const text = source.utf8Slice(from, to);
        const { out, rows } = this.rows(text, 0, text.length);
        const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(out, 'utf8'));
        bytes.write(out, 'utf8');
        return { out: bytes, rows };
      }
      try {
        return maskBlock(source, from, to);
      } catch (error) {
        // What the block owed is dropped with it (a table that fails is not written on).
        settles?.abandon?.();
        throw error;
      }
    },
  };
}

/**
 * A memoizable rule on plain fields' bytes through a BytesMemo: a hit copies the cached field; a
 * miss masks by `now` (the rule's bytes path that writes at once) or through the string, and is
 * cached. Once the cache has switched itself off, `bytes` (which may owe its output) or the
 * string. The flush is `bytes`'s.
 */
function memoBytes(mask: Masker, bytes: BytesMasker | undefined, now: BytesMasker | undefined): BytesMasker {
  const memo = new BytesMemo();
  const noRow: RowAccess = () => null;
  const viaString: BytesMasker = (source, start, end, sink) =>
    sink.field(mask(source.latin1Slice(start, end), noRow));
  const miss = now ?? viaString;
  const after = bytes ?? viaString;
  const cached: BytesMasker = (source, start, end, sink) => {
    if (!memo.caching()) return after(source, start, end, sink);
    if (memo.hit(source, start, end, sink)) return;
    const at = sink.length;
    miss(source, start, end, sink);
    memo.store(source, start, end, sink, at);
  };
  if (bytes?.flush) cached.flush = bytes.flush;
  // Fields that are not ASCII only where every path it may take reads them as UTF-8 bytes.
  cached.utf8 = bytes?.utf8 === true && now?.utf8 === true;
  return cached;
}
