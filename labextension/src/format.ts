/**
 * Formatting of sizes, dates, durations and countdowns: pure functions, unit-tested.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** A size in bytes for people: `0 B`, `512 B`, `1.5 KiB`, `12 MiB`, `1.02 GiB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !isFinite(bytes) || bytes < 0) {
    return '—';
  }
  if (bytes < 1024) {
    return `${Math.round(bytes)} B`;
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // Three significant digits at most, without trailing zeros: 1.5 KiB, 12.3 MiB, 512 GiB.
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  const fixed = value.toFixed(digits);
  const text = fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
  return `${text} ${UNITS[unit]}`;
}

/** `1 file`, `3 files`. */
export function plural(count: number, noun: string, nouns?: string): string {
  return `${count} ${count === 1 ? noun : (nouns ?? `${noun}s`)}`;
}

/**
 * Parse a server time (ISO 8601, `Z` or `+00:00`, up to microseconds) to milliseconds.
 * Returns NaN for anything else.
 */
export function parseTime(value: string | null | undefined): number {
  if (!value) {
    return NaN;
  }
  // Browsers disagree on more than three fractional digits: keep milliseconds only.
  const trimmed = value.replace(/(\.\d{3})\d+/, '$1');
  return Date.parse(trimmed);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration as its two largest units: `3 d 4 h`, `5 h 12 min`, `7 min`, `40 s`. */
export function formatDuration(ms: number): string {
  const abs = Math.max(0, Math.abs(ms));
  if (abs < MINUTE) {
    return `${Math.floor(abs / 1000)} s`;
  }
  if (abs < HOUR) {
    return `${Math.floor(abs / MINUTE)} min`;
  }
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / HOUR);
  return h ? `${d} d ${h} h` : `${d} d`;
}

/**
 * How long until a moment: `in 3 d 4 h`, or `null` once it has passed (the caller says what
 * that means, e.g. "embargo ended").
 */
export function countdown(
  until: string | null | undefined,
  now: number = Date.now()
): string | null {
  const at = parseTime(until);
  if (isNaN(at) || at <= now) {
    return null;
  }
  return `in ${formatDuration(at - now)}`;
}

/** A past moment relative to now: `just now`, `5 min ago`, `2 d 3 h ago`; `never` for null. */
export function timeAgo(
  when: string | null | undefined,
  now: number = Date.now()
): string {
  const at = parseTime(when);
  if (isNaN(at)) {
    return 'never';
  }
  const diff = now - at;
  // A moment slightly "in the future" is clock skew or a stale `now`: it just happened.
  if (diff < 45_000 && diff > -120_000) {
    return 'just now';
  }
  if (diff < 0) {
    return `in ${formatDuration(-diff)}`;
  }
  return `${formatDuration(diff)} ago`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** A date in ISO form in UTC (`2027-01-31`), the form the server uses for embargo dates. */
export function formatDate(when: string | null | undefined): string {
  const at = parseTime(when);
  if (isNaN(at)) {
    return '—';
  }
  const d = new Date(at);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** A moment in UTC to the minute: `2027-01-31 14:05 UTC`. */
export function formatDateTime(when: string | null | undefined): string {
  const at = parseTime(when);
  if (isNaN(at)) {
    return '—';
  }
  const d = new Date(at);
  return `${formatDate(when)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** Elapsed time as a clock: `0:07`, `1:05`, `1:02:03`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** The first characters of a checksum, enough to tell files apart at a glance. */
export function shortHash(sha256: string, length = 12): string {
  return sha256.length > length ? `${sha256.slice(0, length)}…` : sha256;
}

/** A date `days` from now as `YYYY-MM-DD` (the default embargo date of the form). */
export function dateInDays(days: number, now: number = Date.now()): string {
  return formatDate(new Date(now + days * DAY).toISOString());
}

/** Split a comma- or newline-separated list, dropping blanks. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map(s => s.trim())
    .filter(Boolean);
}
