import {
  countdown,
  dateInDays,
  formatBytes,
  formatDate,
  formatDateTime,
  formatDuration,
  formatElapsed,
  parseTime,
  plural,
  shortHash,
  splitList,
  timeAgo
} from '../format';

const NOW = Date.parse('2026-03-01T12:00:00Z');

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 + 300, '10.3 KiB'],
    [512 * 1024 * 1024, '512 MiB'],
    [1024 ** 3, '1 GiB'],
    [1.25 * 1024 ** 4, '1.25 TiB'],
    [5 * 1024 ** 6, '5120 PiB']
  ])('%d bytes is %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it('says nothing for impossible sizes', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(NaN)).toBe('—');
    expect(formatBytes(undefined)).toBe('—');
  });
});

describe('times', () => {
  it('parses the server times, microseconds and offsets included', () => {
    expect(parseTime('2026-03-01T12:00:00Z')).toBe(NOW);
    expect(parseTime('2026-03-01T12:00:00.123456Z')).toBe(NOW + 123);
    expect(parseTime('2026-03-01T12:00:00+00:00')).toBe(NOW);
    expect(parseTime(null)).toBeNaN();
    expect(parseTime('not a date')).toBeNaN();
  });

  it('counts down to an embargo date', () => {
    expect(countdown('2026-03-04T16:30:00Z', NOW)).toBe('in 3 d 4 h');
    expect(countdown('2026-03-02T12:00:00Z', NOW)).toBe('in 1 d');
    expect(countdown('2026-03-01T17:12:00Z', NOW)).toBe('in 5 h 12 min');
    expect(countdown('2026-03-01T12:07:30Z', NOW)).toBe('in 7 min');
    expect(countdown('2026-03-01T12:00:40Z', NOW)).toBe('in 40 s');
    expect(countdown('2026-03-01T12:00:00Z', NOW)).toBeNull();
    expect(countdown('2026-02-01T00:00:00Z', NOW)).toBeNull();
    expect(countdown(null, NOW)).toBeNull();
  });

  it('says how long ago', () => {
    expect(timeAgo('2026-03-01T11:59:50Z', NOW)).toBe('just now');
    expect(timeAgo('2026-03-01T11:55:00Z', NOW)).toBe('5 min ago');
    expect(timeAgo('2026-02-27T09:00:00Z', NOW)).toBe('2 d 3 h ago');
    expect(timeAgo(null, NOW)).toBe('never');
    expect(timeAgo('2026-03-01T12:00:30Z', NOW)).toBe('just now'); // clock skew
    expect(timeAgo('2026-03-01T13:00:00Z', NOW)).toBe('in 1 h');
  });

  it('formats durations, dates and elapsed time', () => {
    expect(formatDuration(3 * 3_600_000)).toBe('3 h');
    expect(formatDate('2027-01-31T00:00:00Z')).toBe('2027-01-31');
    expect(formatDate(undefined)).toBe('—');
    expect(formatDateTime('2027-01-31T14:05:59.999999Z')).toBe('2027-01-31 14:05 UTC');
    expect(formatElapsed(0)).toBe('0:00');
    expect(formatElapsed(7_400)).toBe('0:07');
    expect(formatElapsed(65_000)).toBe('1:05');
    expect(formatElapsed(3_723_000)).toBe('1:02:03');
    expect(dateInDays(30, NOW)).toBe('2026-03-31');
  });
});

describe('small helpers', () => {
  it('pluralises', () => {
    expect(plural(1, 'file')).toBe('1 file');
    expect(plural(0, 'file')).toBe('0 files');
    expect(plural(2, 'entry', 'entries')).toBe('2 entries');
  });

  it('shortens checksums', () => {
    expect(shortHash('a'.repeat(64))).toBe('aaaaaaaaaaaa…');
    expect(shortHash('abc')).toBe('abc');
  });

  it('splits keyword lists', () => {
    expect(splitList(' soil, water ,\nair,, ')).toEqual(['soil', 'water', 'air']);
  });
});
