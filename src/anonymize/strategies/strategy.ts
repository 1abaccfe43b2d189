// What every masking strategy is: a named config entry with its own zod options schema, the
// column types it can write, and `compile` — one file per strategy, collected by registry.ts.
import type { z } from 'zod';
import type { KeyedPrf } from '../prf/keyed-prf.js';

/** What a compiled strategy sees besides the value: the whole row (decoded), by column name. */
export type RowAccess = (column: string) => string | null;

/** A compiled rule: the original value (and row) to the masked one; null stays null unless the rule says otherwise. */
export type Masker = (value: string | null, row: RowAccess) => string | null;

/**
 * A compiled rule on bytes, for the masking loop's hot path: writes the masked value of the field
 * source[start, end) into `sink` as a COPY text field. Called only for a plain field — ASCII
 * without a backslash (so never `\N`): its bytes are its characters. Byte for byte what the
 * rule's Masker gives, encoded by encodeField (test/unit/bytes-maskers.test.ts).
 */
export type BytesMasker = ((source: Buffer, start: number, end: number, sink: FieldSink) => void) & {
  /**
   * Present on a masker that may reserve a field's bytes and write them later (four MACs at once):
   * writes everything still owed into `sink`. The masking loop calls it before handing the
   * sink's bytes on; until then the reserved bytes are not the field.
   */
  flush?: (sink: FieldSink) => void;
  /** Present on a masker that owes work to the end of a block: drops it when the block failed midway. */
  abandon?: () => void;
  /**
   * True on a masker that only reads the value as UTF-8 bytes (hashes it): it also takes a field
   * that is not ASCII, as long as it holds no escape — its bytes are then the value's UTF-8.
   */
  utf8?: boolean;
  /**
   * True on a masker whose output is always a plain field (ASCII without a backslash: hex digits,
   * an address on an ASCII domain), so the unique check need not scan it to know.
   */
  ascii?: boolean;
  /**
   * Present where the rule's outputs have an exact key cheaper than their digest: the unique
   * check claims outputs by it (unique-masker.ts), on both paths.
   */
  key?: OutputKey;
};

/**
 * An exact 64-bit key of a rule's outputs: two outputs are equal exactly when their keys are (an
 * e-mail address's token, given its one domain). `last` is the key of the output the bytes path
 * wrote last, `of` that of an output string; each returns the low 32 bits and leaves the high 32
 * for `high`. Both unsigned.
 */
export interface OutputKey {
  last(): number;
  of(out: string): number;
  high(): number;
}

/** Where a BytesMasker writes (the masking loop's ByteSink, copy-bytes.ts). */
export interface FieldSink {
  /** How many bytes are written. */
  length: number;
  /** The buffer, with room for `bytes` more after `length` (write there, then add to `length`). */
  reserve(bytes: number): Buffer;
  /** Copies bytes [start, end) of `source`. */
  copy(source: Buffer, start: number, end: number): void;
  /** Writes `count` copies of `byte`. */
  repeat(byte: number, count: number): void;
  /** Writes a value as a COPY text field. */
  field(value: string | null): void;
}

/** What `compile` knows about the column besides the rule. */
export interface StrategyContext {
  prf: KeyedPrf;
  /** PostgreSQL type of the column (udt_name: `text`, `varchar`, `int4`, `_text` for text[]…). */
  type: string;
  /** anonymize.domain, for strategies that write e-mail addresses. */
  domain: string;
  /** Whether a BytesMasker may owe its output until `flush` (not where it is read at once: unique columns). */
  deferred?: boolean;
}

/** A column as the constraint checks see it (everything is optional: unknown means unchecked). */
export interface ColumnShape {
  type: string;
  /** varchar(n)/char(n): n characters. */
  maxLength?: number | undefined;
  notNull?: boolean | undefined;
  /** Part of a unique index or primary key on its own column list. */
  unique?: boolean | undefined;
}

/** One masking strategy, as `anonymize.tables.<table>.<column>: { <name>: <options> }`. */
export interface Strategy<Name extends string, Options, Input = Options> {
  name: Name;
  /** The options after the name, as written in config (validated, defaults applied). */
  options: z.ZodType<Options, Input>;
  /** The options the bare name stands for (`email` alone is `{ email: {} }`); absent: the name alone is not a rule. */
  bare?: Input;
  /** What it writes, for messages ("text-like columns"). */
  writes: string;
  /** Whether it can write a column of this PostgreSQL type (udt_name). */
  accepts: (type: string) => boolean;
  /**
   * Whether "is the masked value in the same row still the original?" is a meaningful check:
   * false for strategies that never carry the input (null, fixed).
   */
  leakCheckable: boolean;
  /**
   * Worth a cache of repeated values: deterministic in the value alone and dearer than a lookup
   * (a keyed hash, a fake, a shift). Cheap ones (mask, fixed, null) are not.
   */
  memoize?: boolean;
  /** Whether it reads other columns of the row (template; json when a nested rule does). */
  readsRow: (options: Options) => boolean;
  /** Why the rule cannot fit the column (length, NOT NULL, unique index), or undefined when it fits. */
  misfit?: (options: Options, column: ColumnShape) => string | undefined;
  /** Compiles the rule for one column. Throws Error with a readable message for unusable options. */
  compile: (options: Options, ctx: StrategyContext) => Masker;
  /**
   * The same rule on plain fields' bytes, where that is cheaper than a string in and a string out
   * (no string made, nothing encoded: a card number's mask, an IBAN's HMAC). Undefined where the
   * options need the string path (a mask character outside ASCII).
   */
  compileBytes?: (options: Options, ctx: StrategyContext) => BytesMasker | undefined;
}

/** Text-like types any string fits (length aside). */
export const TEXT_TYPES: ReadonlySet<string> = new Set(['text', 'varchar', 'bpchar', 'citext', 'name']);

/** Integer types (and numeric). */
export const INTEGER_TYPES: ReadonlySet<string> = new Set([
  'smallint',
  'integer',
  'bigint',
  'int2',
  'int4',
  'int8',
  'numeric',
]);
