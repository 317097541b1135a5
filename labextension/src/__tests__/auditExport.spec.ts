import { ServerConnection } from '@jupyterlab/services';

import { DataShareClient } from '../api';
import { auditQuery, chartWindow, exportQuery, IAuditFilters, isFiltered } from '../components/AuditView';

const NONE: IAuditFilters = { dataset: '', action: '', since: '', until: '' };
const DAY = 24 * 3_600_000;

describe('the audit view exports what it shows', () => {
  it('puts the current filters into the export, leaving empty ones out', () => {
    const filters = { dataset: 'ds-1', action: 'file.downloaded', since: '2026-03-01', until: '2026-03-31' };
    expect(exportQuery(filters, 'csv')).toEqual({ format: 'csv', ...filters });
    expect(exportQuery(NONE, 'jsonl')).toEqual({
      format: 'jsonl',
      dataset: undefined,
      action: undefined,
      since: undefined,
      until: undefined
    });
    expect(auditQuery({ ...NONE, until: '2026-03-31' }, { limit: 5 })).toMatchObject({ until: '2026-03-31', limit: 5 });
    expect(isFiltered(NONE)).toBe(false);
    expect(isFiltered({ ...NONE, until: '2026-03-31' })).toBe(true);
  });

  it('sends those filters to the server in the export request', async () => {
    const urls: string[] = [];
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      fetch: async (input: RequestInfo) => {
        urls.push((input as Request).url);
        return new Response('seq,ts\n', { status: 200 });
      }
    });
    const client = new DataShareClient(settings);
    const filters = { ...NONE, dataset: 'ds-1', since: '2026-03-01' };
    const response = await client.fetch('audit', { query: exportQuery(filters, 'csv') });
    expect(await response.text()).toBe('seq,ts\n');
    expect(urls[0].replace(/&\d{12,}$/, '')).toBe(
      'http://localhost:8888/datashare/api/audit?format=csv&dataset=ds-1&since=2026-03-01'
    );
  });

  it('ends the chart with the "until" day', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    expect(chartWindow([], '2026-03-01', now, '2026-03-31')).toEqual({
      from: Date.parse('2026-03-01T00:00:00Z'),
      to: Date.parse('2026-04-01T00:00:00Z')
    });
    const t = Date.parse('2026-03-30T10:00:00Z');
    expect(chartWindow([{ ts: '2026-03-30T10:00:00Z' }], '', now, '2026-03-31')).toEqual({
      from: Math.min(t, Date.parse('2026-04-01T00:00:00Z') - 6 * DAY),
      to: Date.parse('2026-04-01T00:00:00Z')
    });
  });
});
