// Calendar-day arithmetic on `YYYY-MM-DD` text, for the shift strategy: plain integer math (a Date
// and toISOString cost ~1 µs a value, and Date.UTC reads years 0–99 as 1900–1999).

const digit = (text: string, index: number): number => text.charCodeAt(index) - 48;

/** Days since 1970-01-01 of a text starting `YYYY-MM-DD` (a real calendar date), else undefined. */
export function isoDay(text: string): number | undefined {
  if (text.length < 10 || text[4] !== '-' || text[7] !== '-') return undefined;
  let year = 0;
  for (let index = 0; index < 4; index++) {
    const d = digit(text, index);
    if (d < 0 || d > 9) return undefined;
    year = year * 10 + d;
  }
  const m1 = digit(text, 5);
  const m2 = digit(text, 6);
  const d1 = digit(text, 8);
  const d2 = digit(text, 9);
  if ([m1, m2, d1, d2].some((d) => d < 0 || d > 9)) return undefined;
  const month = m1 * 10 + m2;
  const dayOfMonth = d1 * 10 + d2;
  if (month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, dayOfMonth);
}

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

/** `YYYY-MM-DD` of days since 1970-01-01 (civil_from_days), undefined outside years 1–9999. */
export function formatDay(days: number): string | undefined {
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
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1 || year > 9999) return undefined;
  return `${year < 1000 ? String(year).padStart(4, '0') : year}-${month < 10 ? '0' : ''}${month}-${day < 10 ? '0' : ''}${day}`;
}
