/**
 * The audit view pages by cursor (`next`), not by offset, and says where a verification started.
 */
import { ServerConnection } from '@jupyterlab/services';

import { DataShareClient } from '../api';
import { startedFrom } from '../components/AuditView';
import type { VerifyReport } from '../types';

const noBuster = (url: string) => url.replace(/[?&]\d{12,}$/, '');

function client(pages: object[]) {
  const urls: string[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    fetch: async (input: RequestInfo) => {
      urls.push(noBuster((input as Request).url).replace('http://localhost:8888/datashare/api/', ''));
      return new Response(JSON.stringify(pages.shift() ?? {}), { status: 200 });
    }
  });
  return { urls, client: new DataShareClient(settings) };
}

const REPORT: VerifyReport = {
  ok: true,
  events: 15,
  checkpoints: 1,
  first_bad_event: null,
  problem: null,
  checkpoint: null
};

describe('the audit list and its verification', () => {
  it('follows the next cursor of each page', async () => {
    const event = (seq: number) => ({ seq, action: 'file.downloaded' });
    const { urls, client: c } = client([
      { events: [event(9), event(8)], next: '8' },
      { events: [event(7)], next: null }
    ]);
    const first = await c.auditPage({ dataset: 'ds-1', limit: 2 });
    expect(first).toEqual({ items: [event(9), event(8)], next: '8' });
    const second = await c.auditPage({ dataset: 'ds-1', limit: 2, cursor: first.next ?? undefined });
    expect(second.next).toBeNull();
    expect(urls).toEqual(['audit?dataset=ds-1&limit=2', 'audit?dataset=ds-1&limit=2&cursor=8']);
  });

  it('asks for a check from event #1 only when told to', async () => {
    const { urls, client: c } = client([REPORT, REPORT]);
    await c.verifyAudit();
    await c.verifyAudit(true);
    expect(urls).toEqual(['audit/verify', 'audit/verify?full=1']);
  });

  it('says which events a verification from an earlier one checked', () => {
    expect(startedFrom({ ...REPORT, full: true, from_size: 0 })).toBe('');
    const quick = { ...REPORT, full: false, from_size: 12, checked: 3, from_kind: 'verification', from_time: '2026-03-01T12:00:00.000000Z' };
    expect(startedFrom(quick)).toBe(' Checked events #13..#15 from the verification of 2026-03-01 12:00 UTC.');
    expect(startedFrom({ ...quick, checked: 0, events: 12 })).toBe(' No events since the verification of 2026-03-01 12:00 UTC (#12).');
  });
});
