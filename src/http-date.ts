// HTTP-date (RFC 9110 §5.6.7), parsed strictly: the preferred IMF-fixdate
// and the two obsolete forms a recipient MUST accept. Pure arithmetic, no
// Date object and no clock: the caller gives the reference time the
// two-digit year of rfc850-date needs.
//
//   IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT
//   rfc850-date   Sunday, 06-Nov-94 08:49:37 GMT
//   asctime-date  Sun Nov  6 08:49:37 1994

import { Pattern } from "./pattern.js";

const MONTHS: readonly string[] = Object.freeze(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]);
/** Day names from Thursday, the weekday of 1 January 1970 (day 0). */
const DAYS: readonly string[] = Object.freeze(["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]);
const LONG_DAYS: readonly string[] = Object.freeze(["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"]);

// "HTTP-date is case sensitive" (§5.6.7): the names are matched exactly, with exactly one SP between fields.
const MONTH = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "(\\d\\d):(\\d\\d):(\\d\\d)";
const IMF_FIXDATE = new Pattern(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d\\d) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new Pattern(`^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d\\d)-${MONTH}-(\\d\\d) ${TIME} GMT$`);
// date3 = month SP ( 2DIGIT / ( SP DIGIT ) ): "Nov  6" or "Nov 06".
const ASCTIME_DATE = new Pattern(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${MONTH} ( \\d|\\d\\d) ${TIME} (\\d{4})$`);

const DAY_MS = 86400000;

/**
 * The instant `text` names, in ms since 1970-01-01T00:00:00Z, or NaN when
 * it is not an HTTP-date. `reference` (ms since 1970, NaN for none) is the
 * "now" that places rfc850-date's two-digit year; without one that form is
 * refused. A day name that does not match the date, a day the month does
 * not have, or a time past 23:59:60 is refused: such a date was garbled.
 */
export function parseHttpDate(text: string, reference: number): number {
  let m = IMF_FIXDATE.exec(text);
  if (m !== null) return instant(m[1], DAYS, Number(m[2]), m[3], Number(m[4]), m[5], m[6], m[7]);
  m = ASCTIME_DATE.exec(text);
  if (m !== null) return instant(m[1], DAYS, Number(m[3].trim()), m[2], Number(m[7]), m[4], m[5], m[6]);
  m = RFC850_DATE.exec(text);
  if (m === null || !Number.isFinite(reference)) return NaN;
  // §5.6.7: "Recipients of a timestamp value in rfc850-date format, which uses a two-digit year,
  // MUST interpret a timestamp that appears to be more than 50 years in the future as representing
  // the most recent year in the past that had the same last two digits."
  const now = yearOf(reference);
  let year = now - (now % 100) + Number(m[4]);
  if (year > now + 50) year -= 100;
  return instant(m[1], LONG_DAYS, Number(m[2]), m[3], year, m[5], m[6], m[7]);
}

function instant(dayName: string, names: readonly string[], day: number, monthName: string, year: number, hh: string, mm: string, ss: string): number {
  const month = MONTHS.indexOf(monthName);
  const hour = Number(hh);
  const minute = Number(mm);
  const second = Number(ss);
  // time-of-day: "00:00:00 - 23:59:60 (leap second)".
  if (hour > 23 || minute > 59 || second > 60 || (second === 60 && (hour !== 23 || minute !== 59))) return NaN;
  if (day < 1 || day > daysInMonth(year, month)) return NaN;
  const days = daysFromCivil(year, month + 1, day);
  if (names[((days % 7) + 7) % 7] !== dayName) return NaN;
  return days * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return isLeap(year) ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

/** Days from 1970-01-01 to year-month-day (proleptic Gregorian; Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The (Gregorian, UTC) year of an instant in ms since 1970. */
function yearOf(ms: number): number {
  // Hinnant's civil_from_days, the year only.
  const z = Math.floor(ms / DAY_MS) + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}
