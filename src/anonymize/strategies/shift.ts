// `shift` — moves the date part by a keyed offset of 1..N days either way; time and zone are kept
// as written. A result outside years 1–9999 goes the other way instead. On a text column the value
// must start with a `YYYY-MM-DD` date: anything else is refused (an error naming the column), never
// turned into NULL.
import { durationSchema } from '../../format/duration-schema.js';
import { formatDay, isoDay } from './calendar-day.js';
import { type Strategy, TEXT_TYPES } from './strategy.js';

const DATE_TYPES = new Set(['date', 'timestamp', 'timestamptz']);

const range = durationSchema;

/** Shifts dates by up to the configured range (milliseconds, whole days used). */
export const shiftStrategy: Strategy<'shift', number, string> = {
  name: 'shift',
  options: range,
  writes: 'date, timestamp and timestamptz columns (and text holding ISO dates)',
  accepts: (type) => DATE_TYPES.has(type) || TEXT_TYPES.has(type),
  leakCheckable: true,
  memoize: true,
  readsRow: () => false,
  misfit: (_options, column) =>
    column.unique
      ? 'the column has a unique index and shift can move two dates onto the same day'
      : undefined,
  compile: (rangeMs, ctx) => {
    const days = Math.max(1, Math.round(rangeMs / 86_400_000));
    return (value) => {
      if (value === null) return null;
      const day = isoDay(value);
      if (day === undefined) {
        if (value === 'infinity' || value === '-infinity') return value;
        throw new Error(
          `shift: a value does not start with a YYYY-MM-DD date (${value.length} characters); shift keeps the format or refuses — use another strategy for this column`,
        );
      }
      const bits = ctx.prf.uint32(value);
      const offset = 1 + ((bits >>> 1) % days);
      let shifted = formatDay(day + (bits & 1 ? -offset : offset));
      if (shifted === undefined) shifted = formatDay(day + (bits & 1 ? offset : -offset));
      // Both ways out of years 1–9999 only happens for a range of thousands of years.
      if (shifted === undefined) throw new Error('shift: the range is too large for dates in years 1–9999');
      return shifted + value.slice(10);
    };
  },
};
