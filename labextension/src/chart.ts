/**
 * Accesses over time per dataset: the bucketing behind the audit view's chart (pure, tested).
 */
import { parseTime } from './format';

export type BucketSize = 'hour' | 'day' | 'week';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** The most buckets a chart draws; a longer span moves to the next bucket size. */
export const MAX_BUCKETS = 120;

export function bucketLength(size: BucketSize): number {
  return size === 'hour' ? HOUR : size === 'day' ? DAY : WEEK;
}

/** Hours for up to two days, days for up to MAX_BUCKETS days, weeks beyond. */
export function chooseBucket(from: number, to: number): BucketSize {
  const span = Math.max(0, to - from);
  if (span <= 2 * DAY) {
    return 'hour';
  }
  if (span <= MAX_BUCKETS * DAY) {
    return 'day';
  }
  return 'week';
}

/** The start of the bucket holding `ms`, in UTC; weeks start on Monday. */
export function bucketStart(ms: number, size: BucketSize): number {
  if (size === 'hour') {
    return Math.floor(ms / HOUR) * HOUR;
  }
  const day = Math.floor(ms / DAY) * DAY;
  if (size === 'day') {
    return day;
  }
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * DAY;
}

export interface IChartEvent {
  ts: string;
  dataset_id: string | null;
}

export interface ISeries {
  /** The dataset id, or `other` for the datasets beyond `maxSeries`. */
  key: string;
  counts: number[];
  total: number;
}

export interface IChartData {
  size: BucketSize;
  /** Start of each bucket (ms since the epoch, UTC). */
  starts: number[];
  /** One series per dataset, largest total first. */
  series: ISeries[];
  /** The largest stacked bucket (sum over series). */
  max: number;
  total: number;
}

export interface IBucketOptions {
  size?: BucketSize;
  from?: number;
  to?: number;
  /** Datasets beyond this many (by total) are summed into one `other` series. */
  maxSeries?: number;
}

export const OTHER = 'other';

/**
 * Count events per dataset per bucket. Events without a dataset (failed look-ups of unknown
 * links) are left out: they belong to no dataset. Empty buckets in between are kept, so the
 * chart's time axis is even.
 */
export function bucketEvents(
  events: IChartEvent[],
  options: IBucketOptions = {}
): IChartData {
  const times: { at: number; key: string }[] = [];
  for (const e of events) {
    const at = parseTime(e.ts);
    if (!e.dataset_id || isNaN(at)) {
      continue;
    }
    times.push({ at, key: e.dataset_id });
  }
  if (!times.length && (options.from === undefined || options.to === undefined)) {
    return { size: options.size ?? 'day', starts: [], series: [], max: 0, total: 0 };
  }
  const from = options.from ?? Math.min(...times.map(t => t.at));
  const to = options.to ?? Math.max(...times.map(t => t.at));
  let size = options.size ?? chooseBucket(from, to);
  // Never more than MAX_BUCKETS bars: widen the buckets if asked for too fine a size.
  while (
    size !== 'week' &&
    (bucketStart(to, size) - bucketStart(from, size)) / bucketLength(size) + 1 > MAX_BUCKETS
  ) {
    size = size === 'hour' ? 'day' : 'week';
  }
  const first = bucketStart(from, size);
  const step = bucketLength(size);
  const count = Math.floor((bucketStart(to, size) - first) / step) + 1;
  const starts = Array.from({ length: count }, (_, i) => first + i * step);

  const perKey = new Map<string, number[]>();
  for (const { at, key } of times) {
    if (at < first || at >= first + count * step) {
      continue;
    }
    const index = Math.floor((bucketStart(at, size) - first) / step);
    let counts = perKey.get(key);
    if (!counts) {
      counts = new Array(count).fill(0);
      perKey.set(key, counts);
    }
    counts[index]++;
  }
  let series: ISeries[] = [...perKey.entries()]
    .map(([key, counts]) => ({
      key,
      counts,
      total: counts.reduce((a, b) => a + b, 0)
    }))
    .sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));

  const maxSeries = options.maxSeries ?? 6;
  if (series.length > maxSeries) {
    const kept = series.slice(0, maxSeries - 1);
    const rest = series.slice(maxSeries - 1);
    const counts = new Array(count).fill(0);
    for (const s of rest) {
      s.counts.forEach((c, i) => (counts[i] += c));
    }
    kept.push({ key: OTHER, counts, total: counts.reduce((a, b) => a + b, 0) });
    series = kept;
  }
  const stacked = starts.map((_, i) =>
    series.reduce((sum, s) => sum + s.counts[i], 0)
  );
  return {
    size,
    starts,
    series,
    max: stacked.length ? Math.max(...stacked) : 0,
    total: series.reduce((sum, s) => sum + s.total, 0)
  };
}

/** Round axis ticks from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(max: number, wanted = 4): number[] {
  if (max <= 0) {
    return [0, 1];
  }
  const rough = max / wanted;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step =
    [1, 2, 5, 10].map(m => m * power).find(s => s >= rough) ?? 10 * power;
  const whole = Math.max(1, Math.round(step));
  const ticks = [0];
  while (ticks[ticks.length - 1] < max) {
    ticks.push(ticks[ticks.length - 1] + whole);
  }
  return ticks;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The axis label of a bucket: `14:00` (hours), `03-01` (days), `wk 03-01` (weeks). */
export function bucketLabel(start: number, size: BucketSize): string {
  const d = new Date(start);
  const md = `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (size === 'hour') {
    return `${md} ${pad(d.getUTCHours())}h`;
  }
  return size === 'week' ? `wk ${md}` : md;
}
