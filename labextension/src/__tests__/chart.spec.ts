import { chartWindow } from '../components/AuditView';
import {
  bucketEvents,
  bucketLabel,
  bucketStart,
  chooseBucket,
  MAX_BUCKETS,
  niceTicks,
  OTHER
} from '../chart';

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.parse('2026-03-02T00:00:00Z'); // a Monday

const ev = (ms: number, dataset: string | null) => ({ ts: new Date(ms).toISOString(), dataset_id: dataset });

describe('bucket sizes', () => {
  it('chooses hours, days or weeks by span', () => {
    expect(chooseBucket(T0, T0 + 47 * H)).toBe('hour');
    expect(chooseBucket(T0, T0 + 3 * D)).toBe('day');
    expect(chooseBucket(T0, T0 + MAX_BUCKETS * D)).toBe('day');
    expect(chooseBucket(T0, T0 + (MAX_BUCKETS + 1) * D)).toBe('week');
  });

  it('floors to the bucket start in UTC; weeks start on Monday', () => {
    const t = Date.parse('2026-03-05T17:45:12Z'); // Thursday
    expect(new Date(bucketStart(t, 'hour')).toISOString()).toBe('2026-03-05T17:00:00.000Z');
    expect(new Date(bucketStart(t, 'day')).toISOString()).toBe('2026-03-05T00:00:00.000Z');
    expect(new Date(bucketStart(t, 'week')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    const sunday = Date.parse('2026-03-08T23:59:00Z');
    expect(new Date(bucketStart(sunday, 'week')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
  });
});

describe('bucketEvents', () => {
  it('counts accesses per dataset per day, keeping empty days', () => {
    const data = bucketEvents([
      ev(T0 + 1 * H, 'ds-a'),
      ev(T0 + 2 * H, 'ds-a'),
      ev(T0 + 2 * H, 'ds-b'),
      ev(T0 + 3 * D + 5 * H, 'ds-a'),
      ev(T0 + 4 * H, null) // a failed look-up: no dataset
    ]);
    expect(data.size).toBe('day');
    expect(data.starts).toEqual([T0, T0 + D, T0 + 2 * D, T0 + 3 * D]);
    expect(data.series).toEqual([
      { key: 'ds-a', counts: [2, 0, 0, 1], total: 3 },
      { key: 'ds-b', counts: [1, 0, 0, 0], total: 1 }
    ]);
    expect(data.max).toBe(3);
    expect(data.total).toBe(4);
  });

  it('uses hours for a short span', () => {
    const data = bucketEvents([ev(T0 + 10 * 60_000, 'x'), ev(T0 + 2 * H + 1, 'x')]);
    expect(data.size).toBe('hour');
    expect(data.series[0].counts).toEqual([1, 0, 1]);
  });

  it('spans a given window and ignores events outside it', () => {
    const data = bucketEvents([ev(T0 - D, 'x'), ev(T0 + D + H, 'x')], { from: T0, to: T0 + 2 * D, size: 'day' });
    expect(data.starts).toHaveLength(3);
    expect(data.series[0].counts).toEqual([0, 1, 0]);
  });

  it('widens buckets rather than draw too many bars', () => {
    const data = bucketEvents([ev(T0, 'x'), ev(T0 + 400 * D, 'x')], { size: 'hour' });
    expect(data.size).toBe('week');
    expect(data.starts.length).toBeLessThanOrEqual(MAX_BUCKETS);
  });

  it('sums the smallest datasets into "other"', () => {
    const events = ['a', 'a', 'a', 'b', 'b', 'c', 'd'].map(k => ev(T0, k));
    const data = bucketEvents(events, { maxSeries: 3 });
    expect(data.series.map(s => [s.key, s.total])).toEqual([
      ['a', 3],
      ['b', 2],
      [OTHER, 2]
    ]);
    expect(data.total).toBe(7);
  });

  it('is empty without events', () => {
    const data = bucketEvents([]);
    expect(data.series).toEqual([]);
    expect(data.total).toBe(0);
  });
});

describe('axis', () => {
  it('makes round ticks', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(95)).toEqual([0, 50, 100]);
    expect(niceTicks(1234)).toEqual([0, 500, 1000, 1500]);
  });

  it('labels buckets', () => {
    expect(bucketLabel(T0 + 14 * H, 'hour')).toBe('03-02 14h');
    expect(bucketLabel(T0, 'day')).toBe('03-02');
    expect(bucketLabel(T0, 'week')).toBe('wk 03-02');
  });
});

describe('the audit chart window', () => {
  const now = T0 + 10 * D + 5 * H;
  it('shows at least the last week, by day', () => {
    const w = chartWindow([ev(now - H, 'a')], '', now);
    expect(w).toEqual({ from: now - 6 * D, to: now });
    const data = bucketEvents([ev(now - H, 'a')], w);
    expect(data.size).toBe('day');
    expect(data.starts).toHaveLength(7);
    expect(data.series[0].counts).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });

  it('reaches back to the oldest access, or to the since date', () => {
    expect(chartWindow([ev(T0, 'a'), ev(now - H, 'a')], '', now)).toEqual({ from: T0, to: now });
    expect(chartWindow([], '2026-03-05', now)).toEqual({ from: Date.parse('2026-03-05T00:00:00Z'), to: now });
    expect(chartWindow([], '', now)).toEqual({});
  });
});
