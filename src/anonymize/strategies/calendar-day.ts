// Calendar-day arithmetic on `YYYY-MM-DD` text, for the shift strategy: plain integer math (a Date
// and toISOString cost ~1 µs a value, and Date.UTC reads years 0–99 as 1900–1999).

/**
 * Days since 1970-01-01 of a text starting `YYYY-MM-DD` (a real calendar date), else undefined.
 * `bc`: the year is BC, as PostgreSQL writes it (`0044-03-15 BC`): year Y BC is the proleptic
 * Gregorian year 1 − Y, so 1 BC, 5 BC, 9 BC… are leap years, and 1 BC runs into AD 1.
 */
export function isoDay(text: string, bc = false): number | undefined {
  if (text.length < 10 || text[4] !== '-' || text[7] !== '-') return undefined;
  return dayOf(
    bc,
    text.charCodeAt(0),
    text.charCodeAt(1),
    text.charCodeAt(2),
    text.charCodeAt(3),
    text.charCodeAt(5),
    text.charCodeAt(6),
    text.charCodeAt(8),
    text.charCodeAt(9),
  );
}

/** isoDay of bytes [start, end) read as code units (a plain field's bytes are its text). */
export function isoDayOf(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < 10 || bytes[start + 4] !== 45 || bytes[start + 7] !== 45) return undefined;
  return dayOf(
    false,
    bytes[start] as number,
    bytes[start + 1] as number,
    bytes[start + 2] as number,
    bytes[start + 3] as number,
    bytes[start + 5] as number,
    bytes[start + 6] as number,
    bytes[start + 8] as number,
    bytes[start + 9] as number,
  );
}

/** The day of the date whose eight digits' codes are given (YYYY, MM, DD), else undefined. */
function dayOf(
  bc: boolean,
  y1: number,
  y2: number,
  y3: number,
  y4: number,
  m1: number,
  m2: number,
  d1: number,
  d2: number,
) {
  if (!isDigit(y1) || !isDigit(y2) || !isDigit(y3) || !isDigit(y4)) return undefined;
  if (!isDigit(m1) || !isDigit(m2) || !isDigit(d1) || !isDigit(d2)) return undefined;
  const written = (y1 - 48) * 1000 + (y2 - 48) * 100 + (y3 - 48) * 10 + (y4 - 48);
  if (bc && written === 0) return undefined;
  const year = bc ? 1 - written : written;
  const month = (m1 - 48) * 10 + (m2 - 48);
  const dayOfMonth = (d1 - 48) * 10 + (d2 - 48);
  if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > daysInMonth(year, month)) return undefined;
  const day = daysFromCivil(year, month, dayOfMonth);
  // A BC date before PostgreSQL's first (4713-11-24 BC) is not one it writes.
  return bc && !inBcYears(day) ? undefined : day;
}

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Howard Hinnant's days_from_civil (proleptic Gregorian). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** The first and last days formatDay writes: 0001-01-01 and 9999-12-31. */
const FIRST_DAY = daysFromCivil(1, 1, 1);
const LAST_DAY = daysFromCivil(9999, 12, 31);

/** Whether `days` since 1970-01-01 is in years 1–9999. */
export const inYears = (days: number): boolean => days >= FIRST_DAY && days <= LAST_DAY;

/** PostgreSQL's first date, 4713-11-24 BC (Julian day 0), and the last BC one, 0001-12-31 BC. */
const FIRST_BC_DAY = daysFromCivil(1 - 4713, 11, 24);
const LAST_BC_DAY = daysFromCivil(0, 12, 31);

/** Whether `days` since 1970-01-01 is a BC date PostgreSQL has. */
export const inBcYears = (days: number): boolean => days >= FIRST_BC_DAY && days <= LAST_BC_DAY;

/** `YYYY-MM-DD` of a BC day (the year as written before " BC"), undefined outside inBcYears. */
export function formatBcDay(days: number): string | undefined {
  if (!inBcYears(days)) return undefined;
  civilFromDays(days);
  const year = 1 - civilYear;
  return `${String(year).padStart(4, '0')}-${civilMonth < 10 ? '0' : ''}${civilMonth}-${civilDay < 10 ? '0' : ''}${civilDay}`;
}

/** The last civilFromDays: year, month, day. */
let civilYear = 0;
let civilMonth = 0;
let civilDay = 0;

/** Howard Hinnant's civil_from_days, into civilYear, civilMonth, civilDay. */
function civilFromDays(days: number): void {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  civilDay = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  civilMonth = mp < 10 ? mp + 3 : mp - 9;
  civilYear = yearOfEra + era * 400 + (civilMonth <= 2 ? 1 : 0);
}

/** `YYYY-MM-DD` of days since 1970-01-01, undefined outside years 1–9999. */
export function formatDay(days: number): string | undefined {
  if (!inYears(days)) return undefined;
  civilFromDays(days);
  const year = civilYear;
  const month = civilMonth;
  const day = civilDay;
  return `${year < 1000 ? String(year).padStart(4, '0') : year}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}

/** formatDay's ten characters as bytes into `target` at `at` (days in years 1–9999). */
export function writeDay(days: number, target: Uint8Array, at: number): void {
  civilFromDays(days);
  const year = civilYear;
  target[at] = 48 + Math.floor(year / 1000);
  target[at + 1] = 48 + (Math.floor(year / 100) % 10);
  target[at + 2] = 48 + (Math.floor(year / 10) % 10);
  target[at + 3] = 48 + (year % 10);
  target[at + 4] = 45;
  target[at + 5] = 48 + Math.floor(civilMonth / 10);
  target[at + 6] = 48 + (civilMonth % 10);
  target[at + 7] = 45;
  target[at + 8] = 48 + Math.floor(civilDay / 10);
  target[at + 9] = 48 + (civilDay % 10);
}
