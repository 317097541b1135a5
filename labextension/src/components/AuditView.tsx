/**
 * The audit log (main area): events filtered by dataset, action and date, a chart of accesses
 * over time per dataset, verification of the hash chain, and export.
 */
import { downloadIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { DataShareClient, IAuditQuery } from '../api';
import {
  bucketEvents,
  bucketLabel,
  IChartData,
  niceTicks,
  OTHER
} from '../chart';
import { formatDateTime, parseTime } from '../format';
import type { AuditEvent, DatasetSummary, VerifyReport } from '../types';
import { ACCESS_ACTIONS, AUDIT_ACTIONS } from '../vocab';
import { Checkpoint } from './Checkpoint';
import { Banner, BUTTON, Busy, saveBlob } from './common';

export interface IAuditFilters {
  dataset: string;
  action: string;
  since: string;
  /** A date: up to the end of that day. */
  until: string;
}

/** The list's query for the filters (empty ones left out); `until` is understood by the server too. */
export function auditQuery(
  f: IAuditFilters,
  extra: IAuditQuery = {}
): IAuditQuery & { until?: string } {
  return {
    dataset: f.dataset || undefined,
    action: f.action || undefined,
    since: f.since || undefined,
    until: f.until || undefined,
    ...extra
  };
}

/** The export's query: the same filters as the list, so what is saved is what is shown. */
export function exportQuery(
  f: IAuditFilters,
  format: 'csv' | 'jsonl'
): Record<string, string | undefined> {
  const { dataset, action, since, until } = auditQuery(f);
  return { format, dataset, action, since, until };
}

/** Whether any filter is set (the export then saves only the matching events). */
export function isFiltered(f: IAuditFilters): boolean {
  return Boolean(f.dataset || f.action || f.since || f.until);
}

export interface IAuditViewProps {
  client: DataShareClient;
  datasets: () => Promise<DatasetSummary[]>;
  initial?: Partial<IAuditFilters>;
  pageSize: number;
  /** Set by the "verify" command: run the verification when this changes. */
  verifyNonce?: number;
}

/** Colours of the chart's series: JupyterLab's Material palette, with fallbacks. */
const COLOURS = [
  'var(--md-blue-500, #2196f3)',
  'var(--md-orange-500, #ff9800)',
  'var(--md-green-500, #4caf50)',
  'var(--md-purple-500, #9c27b0)',
  'var(--md-red-500, #f44336)',
  'var(--md-grey-500, #9e9e9e)'
];

export function AuditView(props: IAuditViewProps): JSX.Element {
  const { client } = props;
  const uid = React.useId().replace(/:/g, '');
  const [filters, setFilters] = React.useState<IAuditFilters>({
    dataset: props.initial?.dataset ?? '',
    action: props.initial?.action ?? '',
    since: props.initial?.since ?? '',
    until: props.initial?.until ?? ''
  });
  const [events, setEvents] = React.useState<AuditEvent[]>([]);
  /** The cursor of the page after the last one shown (null: no more). */
  const [next, setNext] = React.useState<string | null>(null);
  const [accesses, setAccesses] = React.useState<AuditEvent[]>([]);
  const [datasets, setDatasets] = React.useState<DatasetSummary[]>([]);
  const [loading, setLoading] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const [report, setReport] = React.useState<VerifyReport | null>(null);
  const [verifying, setVerifying] = React.useState(false);
  const [exporting, setExporting] = React.useState<string | null>(null);

  const query = auditQuery;

  const load = React.useCallback(
    async (f: IAuditFilters) => {
      setLoading(true);
      try {
        const page = await client.auditPage(query(f, { limit: props.pageSize }));
        setNext(page.next);
        setEvents(page.items);
        // The chart counts reads of data (downloads, grant uses, review-page views).
        const wanted = f.action
          ? ACCESS_ACTIONS.filter(a => a === f.action)
          : ACCESS_ACTIONS;
        const parts = await Promise.all(
          wanted.map(action =>
            client.audit(query(f, { action, limit: 1000 }))
          )
        );
        setAccesses(parts.flat());
        setError(null);
      } catch (e) {
        setError((e as Error).message);
      } finally {
        setLoading(false);
      }
    },
    [client, props.pageSize]
  );

  React.useEffect(() => {
    void load(filters);
  }, [filters, load]);

  React.useEffect(() => {
    props
      .datasets()
      .then(setDatasets)
      .catch(() => undefined);
  }, []);

  const loadMore = async () => {
    setLoading(true);
    try {
      // By cursor, not offset: events recorded since the first page neither repeat nor shift it.
      const page = await client.auditPage(
        query(filters, { limit: props.pageSize, cursor: next ?? undefined })
      );
      setNext(page.next);
      setEvents([...events, ...page.items]);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  };

  const verify = async (full = false) => {
    setVerifying(true);
    try {
      setReport(await client.verifyAudit(full));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setVerifying(false);
    }
  };

  React.useEffect(() => {
    if (props.verifyNonce) {
      void verify();
    }
  }, [props.verifyNonce]);

  const exportAs = async (format: 'csv' | 'jsonl') => {
    setExporting(format);
    try {
      const response = await client.fetch('audit', { query: exportQuery(filters, format) });
      saveBlob(await response.blob(), `datashare-audit.${format}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setExporting(null);
    }
  };

  const titles = new Map(datasets.map(d => [d.id, d.title]));
  const chart = bucketEvents(
    accesses,
    chartWindow(accesses, filters.since, Date.now(), filters.until)
  );
  const exportWhat = isFiltered(filters)
    ? 'the events that match the filters'
    : 'the whole log';
  const set = (patch: Partial<IAuditFilters>) => setFilters({ ...filters, ...patch });

  return (
    <div className="jp-DataShare-audit">
      <div className="jp-DataShare-auditBar">
        <h2>Audit log</h2>
        <span className="jp-DataShare-spacer" />
        <button
          type="button"
          className={BUTTON.accept}
          onClick={() => void verify()}
          disabled={verifying}
          data-testid="datashare-verify"
        >
          {verifying ? 'Verifying…' : 'Verify log'}
        </button>
        <button
          type="button"
          className={BUTTON.plain}
          onClick={() => void exportAs('csv')}
          disabled={exporting !== null}
          aria-label={`Export ${exportWhat} as CSV`}
          title={`Export ${exportWhat} as CSV`}
        >
          <downloadIcon.react tag="span" /> CSV
        </button>
        <button
          type="button"
          className={BUTTON.plain}
          onClick={() => void exportAs('jsonl')}
          disabled={exporting !== null}
          aria-label={`Export ${exportWhat} as JSON Lines`}
          title={`Export ${exportWhat} as JSON Lines`}
        >
          <downloadIcon.react tag="span" /> JSON Lines
        </button>
      </div>
      <Checkpoint client={props.client} />

      {report ? (
        <Banner kind={report.ok ? 'success' : 'error'} onDismiss={() => setReport(null)}>
          <span data-testid="datashare-verify-result" data-ok={report.ok}>
            {report.ok
              ? `The log verifies: ${report.events} events, hash chain intact; ${
                  report.checkpoints
                    ? `${report.checkpoints} signed checkpoint${report.checkpoints === 1 ? '' : 's'} match.`
                    : 'no signed checkpoint yet.'
                }${startedFrom(report)}`
              : `The log does NOT verify: ${report.problem}${
                  report.first_bad_event ? ` (first bad event: #${report.first_bad_event})` : ''
                }`}
          </span>
          {report.ok && report.full === false ? (
            <button
              type="button"
              className={BUTTON.plain}
              onClick={() => void verify(true)}
              disabled={verifying}
              data-testid="datashare-verify-full"
            >
              Check from #1
            </button>
          ) : null}
        </Banner>
      ) : null}
      {error ? (
        <Banner kind="error" onDismiss={() => setError(null)}>
          {error}
        </Banner>
      ) : null}

      <form
        className="jp-DataShare-filters"
        aria-label="Filter the events"
        onSubmit={e => e.preventDefault()}
      >
        <div className="jp-DataShare-field">
          <label htmlFor={`${uid}-dataset`}>Dataset</label>
          <select
            id={`${uid}-dataset`}
            className="jp-mod-styled"
            value={filters.dataset}
            onChange={e => set({ dataset: e.target.value })}
          >
            <option value="">All datasets</option>
            {filters.dataset && !titles.has(filters.dataset) ? (
              <option value={filters.dataset}>{filters.dataset}</option>
            ) : null}
            {datasets.map(d => (
              <option key={d.id} value={d.id}>
                {d.title} ({d.id})
              </option>
            ))}
          </select>
        </div>
        <div className="jp-DataShare-field">
          <label htmlFor={`${uid}-action`}>Action</label>
          <select
            id={`${uid}-action`}
            className="jp-mod-styled"
            value={filters.action}
            onChange={e => set({ action: e.target.value })}
          >
            <option value="">All actions</option>
            {AUDIT_ACTIONS.map(a => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div className="jp-DataShare-field">
          <label htmlFor={`${uid}-since`}>Since</label>
          <input
            id={`${uid}-since`}
            type="date"
            className="jp-mod-styled"
            value={filters.since}
            onChange={e => set({ since: e.target.value })}
          />
        </div>
        <div className="jp-DataShare-field">
          <label htmlFor={`${uid}-until`}>Until</label>
          <input
            id={`${uid}-until`}
            type="date"
            className="jp-mod-styled"
            value={filters.until}
            min={filters.since || undefined}
            onChange={e => set({ until: e.target.value })}
          />
        </div>
        <button
          type="button"
          className="jp-DataShare-iconButton"
          aria-label="Reload the events"
          title="Reload"
          onClick={() => void load(filters)}
          disabled={loading}
        >
          <refreshIcon.react tag="span" />
        </button>
      </form>

      <section className="jp-DataShare-chartBox" aria-label="Accesses over time">
        <h3>Accesses over time</h3>
        <AccessChart data={chart} titles={titles} />
      </section>

      <section aria-label="Events">
        <h3>
          Events {loading ? <Busy label="Loading…" /> : null}
        </h3>
        <table className="jp-DataShare-table" data-testid="datashare-audit-table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
              <th scope="col">Actor</th>
              <th scope="col">Dataset</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {events.map(e => (
              <tr key={e.seq} data-action={e.action}>
                <td>{e.seq}</td>
                <td className="jp-DataShare-nowrap">{formatDateTime(e.ts)}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td className={`jp-DataShare-outcome-${e.outcome}`}>{e.outcome}</td>
                <td>{e.actor}</td>
                <td
                  className="jp-DataShare-nowrap"
                  title={e.dataset_id ? titles.get(e.dataset_id) : undefined}
                >
                  {e.dataset_id ?? ''}
                  {e.version ? ` v${e.version}` : ''}
                </td>
                <td className="jp-DataShare-details">{describe(e)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {events.length === 0 && !loading ? (
          <div className="jp-DataShare-empty">No events match.</div>
        ) : null}
        {next !== null ? (
          <button
            type="button"
            className={BUTTON.plain}
            onClick={() => void loadMore()}
            disabled={loading}
          >
            Load more
          </button>
        ) : null}
      </section>
    </div>
  );
}

const WEEK = 7 * 24 * 3_600_000;

/** Where a verification started when not from event #1 (the events before were verified then). */
export function startedFrom(report: VerifyReport): string {
  if (report.full !== false || !report.from_size) {
    return '';
  }
  const since = `the ${report.from_kind ?? 'verification'} of ${formatDateTime(report.from_time ?? '')}`;
  return report.checked
    ? ` Checked events #${report.from_size + 1}..#${report.events} from ${since}.`
    : ` No events since ${since} (#${report.from_size}).`;
}

/**
 * The chart's time axis: from the "since" date to now (or to the end of the "until" day);
 * without "since", the last week at least (longer when the accesses go further back), so a few
 * recent accesses still read as a timeline.
 */
export function chartWindow(
  accesses: { ts: string }[],
  since: string,
  now: number,
  until = ''
): { from?: number; to?: number } {
  const start = since ? parseTime(since) : NaN;
  // "Until" a date covers that whole day, as the server reads it.
  const endOfUntil = until ? parseTime(until) + 24 * 3_600_000 : NaN;
  const end = isNaN(endOfUntil) ? now : endOfUntil;
  if (!isNaN(start)) {
    return { from: start, to: Math.max(start, end) };
  }
  const times = accesses.map(a => parseTime(a.ts)).filter(t => !isNaN(t));
  if (!times.length) {
    return {};
  }
  return {
    from: Math.min(Math.min(...times), end - WEEK + 24 * 3_600_000),
    to: Math.max(end, Math.max(...times))
  };
}

/** One line of what else an event says (file, byte range, reason, link, grant, details). */
export function describe(e: AuditEvent): string {
  const parts: string[] = [];
  if (e.file) {
    parts.push(e.file + (e.byte_range ? ` [${e.byte_range}]` : ''));
  }
  if (e.link_id) {
    parts.push(`link ${e.link_id}`);
  }
  if (e.grant_id) {
    parts.push(`grant ${e.grant_id}`);
  }
  if (e.reason) {
    parts.push(`reason: ${e.reason}`);
  }
  if (e.client) {
    parts.push(`from ${e.client}`);
  }
  if (e.details && Object.keys(e.details).length) {
    parts.push(
      Object.entries(e.details)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ')
    );
  }
  return parts.join(' · ');
}

/** Stacked bars: one bar per time bucket, one colour per dataset. */
export function AccessChart(props: {
  data: IChartData;
  titles: Map<string, string>;
}): JSX.Element {
  const { data, titles } = props;
  if (!data.total) {
    return <div className="jp-DataShare-empty">No accesses in this selection yet.</div>;
  }
  const width = 640;
  const height = 180;
  const left = 36;
  const bottom = 22;
  const top = 8;
  const plotW = width - left - 8;
  const plotH = height - top - bottom;
  const ticks = niceTicks(data.max);
  const yMax = ticks[ticks.length - 1];
  const slot = plotW / data.starts.length;
  const barW = Math.max(1, Math.min(24, slot * 0.8));
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const labelEvery = Math.max(1, Math.ceil(data.starts.length / 8));
  const name = (key: string) =>
    key === OTHER ? 'other datasets' : (titles.get(key) ?? key);
  const summary = data.series
    .map(s => `${name(s.key)}: ${s.total}`)
    .join('; ');

  return (
    <div className="jp-DataShare-chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Accesses per ${data.size}: ${summary}`}
        data-testid="datashare-chart"
      >
        {ticks.map(t => (
          <g key={t}>
            <line
              x1={left}
              x2={width - 8}
              y1={y(t)}
              y2={y(t)}
              className="jp-DataShare-chartGrid"
            />
            <text x={left - 6} y={y(t) + 4} textAnchor="end" className="jp-DataShare-chartText">
              {t}
            </text>
          </g>
        ))}
        {data.starts.map((start, i) => {
          let base = 0;
          const x = left + i * slot + (slot - barW) / 2;
          return (
            <g key={start}>
              {data.series.map((s, k) => {
                const v = s.counts[i];
                if (!v) {
                  return null;
                }
                const rect = (
                  <rect
                    key={s.key}
                    x={x}
                    y={y(base + v)}
                    width={barW}
                    height={y(base) - y(base + v)}
                    fill={COLOURS[k % COLOURS.length]}
                  >
                    <title>
                      {`${name(s.key)}: ${v} on ${bucketLabel(start, data.size)}`}
                    </title>
                  </rect>
                );
                base += v;
                return rect;
              })}
              {i % labelEvery === 0 ? (
                <text
                  x={left + i * slot + slot / 2}
                  y={height - 6}
                  textAnchor="middle"
                  className="jp-DataShare-chartText"
                >
                  {bucketLabel(start, data.size)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <ul className="jp-DataShare-legend" aria-label="Datasets in the chart">
        {data.series.map((s, k) => (
          <li key={s.key}>
            <span
              className="jp-DataShare-swatch"
              style={{ background: COLOURS[k % COLOURS.length] }}
              aria-hidden="true"
            />
            {name(s.key)} ({s.total})
          </li>
        ))}
      </ul>
    </div>
  );
}
