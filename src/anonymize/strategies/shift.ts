// `shift` — moves the date part by a keyed offset of 1..N days either way; time and zone are kept
// as written. A result outside years 1–9999 (a BC date's: 4713–1 BC) goes the other way instead. On a text column the value
// must start with a `YYYY-MM-DD` date: anything else is refused (an error naming the column), never
// turned into NULL.
import { durationSchema } from '../../format/duration-schema.js';
import { formatBcDay, formatDay, inBcYears, inYears, isoDay, isoDayOf, writeDay } from './calendar-day.js';
import { type BytesMasker, type Strategy, TEXT_TYPES } from './strategy.js';

const DATE_TYPES = new Set(['date', 'timestamp', 'timestamptz']);

const range = durationSchema;

/** Slots of a shift's table of moved days: a power of two. */
const DAY_SLOTS = 65_536;
/** No date: every date's key (dateKey) is at least 0. */
const NO_DAY = -(2 ** 31);

/** Shifts dates by up to the configured range (milliseconds, whole days used). */
export const shiftStrategy: Strategy<'shift', number, string> = {
  name: 'shift',
  options: range,
  writes: 'date, timestamp and timestamptz columns (and text holding ISO dates)',
  accepts: (type) => DATE_TYPES.has(type) || TEXT_TYPES.has(type),
  leakCheckable: true,
  // Its bytes path keeps the dates it met (compileBytes); the string path runs on rare values.
  memoize: false,
  readsRow: () => false,
  misfit: (_options, column) =>
    column.unique
      ? 'the column has a unique index and shift can move two dates onto the same day'
      : undefined,
  compile: (rangeMs, ctx) => {
    const { prf } = ctx;
    const days = Math.max(1, Math.round(rangeMs / 86_400_000));
    return (value) => {
      if (value === null) return null;
      // A BC date stays BC: its days counted in BC years (1 BC is a leap year), the suffix kept.
      const bc = value.endsWith(' BC');
      const day = isoDay(value, bc);
      if (day === undefined) {
        if (value === 'infinity' || value === '-infinity') return value;
        throw new Error(
          `shift: a value does not start with a YYYY-MM-DD date (${value.length} characters); shift keeps the format or refuses — use another strategy for this column`,
        );
      }
      const moved = shifted(day, prf.uint32(value), days, bc ? inBcYears : inYears);
      return (bc ? formatBcDay(moved) : formatDay(moved)) + value.slice(10);
    };
  },
  compileBytes: (rangeMs, ctx) => {
    // The PRF captured itself, not the context object: a closure reading ctx.prf checked the
    // context's map a value, and the contexts of two tables need not share one.
    const { prf } = ctx;
    // The date's ten digits written from the day's number and the rest of the field copied: no
    // string a value (a timestamp column's values never repeat, so each was a miss through the
    // string path). Anything but a date — infinity, or the error — goes through the string path.
    const days = Math.max(1, Math.round(rangeMs / 86_400_000));
    const mask = shiftStrategy.compile(rangeMs, ctx);
    const noRow = () => null;
    // A bare date (every value of a date column) is ten bytes that are one day, and its offset is
    // keyed by those bytes alone: the moved dates met are kept in a direct-mapped table, keyed by
    // the eight digits as written (dateKey; 128 years of dates without two sharing a slot). A hit
    // is reading eight digits and a 10-byte copy — no calendar arithmetic, whose divisions were
    // ~40 ns a row of a users table's birth dates when the table was keyed by day — cheaper than
    // the cache of repeated values (a digest, a probe, a compare), which shift does not use: its
    // values are dates (kept here) or timestamps (never repeated).
    let tags: Int32Array | undefined;
    let moved: Uint8Array | undefined;
    const masker: BytesMasker = (source, start, end, sink) => {
      if (end - start === 10 && tags !== undefined && moved !== undefined) {
        const key = dateKey(source, start);
        const slot = key & (DAY_SLOTS - 1);
        if (key >= 0 && tags[slot] === key) {
          const target = sink.reserve(10);
          const at = sink.length;
          const from = slot * 10;
          for (let index = 0; index < 10; index++) target[at + index] = moved[from + index] as number;
          sink.length += 10;
          return;
        }
      }
      // A BC date (`… BC`, rare) goes through the string path too.
      const bc =
        end - start >= 13 && source[end - 1] === 67 && source[end - 2] === 66 && source[end - 3] === 32;
      const day = bc ? undefined : isoDayOf(source, start, end);
      if (day === undefined) {
        sink.field(mask(source.latin1Slice(start, end), noRow));
        return;
      }
      if (end - start !== 10) {
        const to = shifted(day, prf.uint32Of(source, start, end), days, inYears);
        writeDay(to, sink.reserve(10), sink.length);
        sink.length += 10;
        sink.copy(source, start + 10, end);
        return;
      }
      if (tags === undefined || moved === undefined) {
        tags = new Int32Array(DAY_SLOTS).fill(NO_DAY);
        moved = new Uint8Array(DAY_SLOTS * 10);
      }
      // A real date (isoDayOf checked it), so its key is one: cached for the next time.
      const key = dateKey(source, start);
      const slot = key & (DAY_SLOTS - 1);
      const from = slot * 10;
      const target = sink.reserve(10);
      const at = sink.length;
      writeDay(shifted(day, prf.uint32Of(source, start, end), days, inYears), target, at);
      for (let index = 0; index < 10; index++) moved[from + index] = target[at + index] as number;
      tags[slot] = key;
      sink.length += 10;
    };
    return masker;
  },
};

/**
 * A `YYYY-MM-DD` at source[start]'s eight digits as one number (YYYY·512 + MM·32 + DD: two dates
 * share it only when their ten bytes are the same), or -1 where a digit or a dash is not one. Its
 * low 16 bits are the day, the month and the year modulo 128: 128 years of dates in distinct slots.
 */
function dateKey(source: Uint8Array, start: number): number {
  if (source[start + 4] !== 45 || source[start + 7] !== 45) return -1;
  const y1 = (source[start] as number) - 48;
  const y2 = (source[start + 1] as number) - 48;
  const y3 = (source[start + 2] as number) - 48;
  const y4 = (source[start + 3] as number) - 48;
  const m1 = (source[start + 5] as number) - 48;
  const m2 = (source[start + 6] as number) - 48;
  const d1 = (source[start + 8] as number) - 48;
  const d2 = (source[start + 9] as number) - 48;
  // A digit's value is 0..9 (below '0' it is negative: above 9 unsigned).
  if (
    y1 >>> 0 > 9 ||
    y2 >>> 0 > 9 ||
    y3 >>> 0 > 9 ||
    y4 >>> 0 > 9 ||
    m1 >>> 0 > 9 ||
    m2 >>> 0 > 9 ||
    d1 >>> 0 > 9 ||
    d2 >>> 0 > 9
  )
    return -1;
  const year = y1 * 1000 + y2 * 100 + y3 * 10 + y4;
  return year * 512 + (m1 * 10 + m2) * 32 + d1 * 10 + d2;
}

/**
 * The day moved by the offset `bits` pick (1..days, the sign from the low bit); the other way
 * when that leaves the era's years (`within`: AD 1–9999, or 4713 BC–1 BC).
 */
function shifted(day: number, bits: number, days: number, within: (day: number) => boolean): number {
  const offset = 1 + ((bits >>> 1) % days);
  const signed = bits & 1 ? -offset : offset;
  if (within(day + signed)) return day + signed;
  // Both ways out of the era only happens for a range of thousands of years.
  if (within(day - signed)) return day - signed;
  throw new Error('shift: the range is too large for dates in years 1–9999 (or 4713–1 BC)');
}
