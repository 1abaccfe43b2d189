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
/** No day: days since 1970 of dates in years 4713 BC–9999 are within ±3M. */
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
    // keyed by those bytes alone: the moved dates of the days met are kept, by day, in a
    // direct-mapped table (~179 years of days without two sharing a slot). A hit is a parse and a
    // 10-byte copy, cheaper than the cache of repeated values (a digest, a probe, a compare),
    // which shift does not use: its values are dates (kept here) or timestamps (never repeated).
    let tags: Int32Array | undefined;
    let moved: Uint8Array | undefined;
    const masker: BytesMasker = (source, start, end, sink) => {
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
      const slot = day & (DAY_SLOTS - 1);
      const from = slot * 10;
      const target = sink.reserve(10);
      const at = sink.length;
      if (tags[slot] === day) {
        for (let index = 0; index < 10; index++) target[at + index] = moved[from + index] as number;
      } else {
        writeDay(shifted(day, prf.uint32Of(source, start, end), days, inYears), target, at);
        for (let index = 0; index < 10; index++) moved[from + index] = target[at + index] as number;
        tags[slot] = day;
      }
      sink.length += 10;
    };
    return masker;
  },
};

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
