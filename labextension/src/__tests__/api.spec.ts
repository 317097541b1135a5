import { ServerConnection } from '@jupyterlab/services';

import {
  bulkDecisionBody,
  DataShareClient,
  DataShareError,
  encodePath,
  errorForForm,
  matchField,
  withQuery
} from '../api';

/** JupyterLab adds a cache buster (`&<epoch ms>`) to GETs; leave it out of comparisons. */
const noBuster = (url: string) => url.replace(/[?&]\d{12,}$/, '');

/** A client whose requests are recorded and answered by `reply`. */
function fakeClient(
  reply: (request: Request) => Response | Promise<Response>,
  baseUrl = 'http://localhost:8888/user/ada/'
) {
  const requests: Request[] = [];
  const settings = ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace('http', 'ws'),
    token: 'secret-token',
    fetch: (input: RequestInfo) => {
      const request = input as Request;
      requests.push(request);
      return Promise.resolve(reply(request));
    }
  });
  return { client: new DataShareClient(settings), requests };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });

describe('request building', () => {
  it('leaves empty query values out and encodes the rest', () => {
    expect(withQuery('audit', { dataset: 'ds-1', action: undefined, since: '' })).toBe(
      'audit?dataset=ds-1'
    );
    expect(withQuery('audit', { q: 'a b&c', n: 0, flag: false })).toBe(
      'audit?q=a%20b%26c&n=0&flag=false'
    );
    expect(withQuery('audit')).toBe('audit');
  });

  it('encodes each segment of a file path but keeps the slashes', () => {
    expect(encodePath('data/raw data/α#1.csv')).toBe('data/raw%20data/%CE%B1%231.csv');
  });

  it('puts the API under the base URL and sends the token', async () => {
    const { client, requests } = fakeClient(() => json({ datasets: [] }));
    await client.listDatasets();
    expect(requests).toHaveLength(1);
    expect(noBuster(requests[0].url)).toBe('http://localhost:8888/user/ada/datashare/api/datasets?limit=1000');
    expect(requests[0].method).toBe('GET');
    expect(requests[0].headers.get('Authorization')).toBe('token secret-token');
  });

  it('sends the XSRF cookie as a header', async () => {
    document.cookie = '_xsrf=xsrf-value';
    try {
      const { client, requests } = fakeClient(() => json({ events: [] }));
      await client.audit({ dataset: 'ds-1' });
      expect(requests[0].headers.get('X-XSRFToken')).toBe('xsrf-value');
    } finally {
      document.cookie = '_xsrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
    }
  });

  it('POSTs the share body as JSON', async () => {
    const { client, requests } = fakeClient(() => json({ id: 'ds-1', committee_links: [] }, 201));
    const out = await client.share({ path: 'a.csv', title: 'A', access: { level: 'open' } });
    expect(out.id).toBe('ds-1');
    const r = requests[0];
    expect(r.method).toBe('POST');
    expect(noBuster(r.url)).toMatch(/\/datashare\/api\/datasets$/);
    expect(r.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(await r.text())).toEqual({
      path: 'a.csv',
      title: 'A',
      access: { level: 'open' }
    });
  });

  it('builds every route of the API', async () => {
    const { client, requests } = fakeClient(() => json({ links: [], grants: [], requests: [], events: [] }));
    await client.getDataset('ds 1', 2);
    await client.listLinks('ds-1');
    await client.createLink('ds-1', { label: 'R1', expires_in_days: 7, anonymous: true });
    await client.revokeLink('lnk-1');
    await client.listRequests('pending');
    await client.decide('req-1', 'deny', '  not a fit ');
    await client.decide('req-2', 'approve', '  ');
    await client.listGrants('ds-1');
    await client.revokeGrant('gr-1', 'misuse');
    await client.withdraw('ds-1', 'superseded');
    await client.publishVersion('ds-1');
    await client.verifyAudit();
    await client.audit({ dataset: 'ds-1', action: 'file.downloaded', since: '2026-01-01', limit: 10, offset: 20 });
    const seen = await Promise.all(
      requests.map(async r => [r.method, noBuster(r.url).replace('http://localhost:8888/user/ada/datashare/api/', ''), await r.text()])
    );
    expect(seen).toEqual([
      ['GET', 'datasets/ds%201?version=2', ''],
      ['GET', 'datasets/ds-1/links?limit=1000', ''],
      ['POST', 'datasets/ds-1/links', '{"label":"R1","expires_in_days":7,"anonymous":true}'],
      ['DELETE', 'links/lnk-1', ''],
      ['GET', 'requests?status=pending&limit=1000', ''],
      ['POST', 'requests/req-1/decision', '{"decision":"deny","reason":"not a fit"}'],
      ['POST', 'requests/req-2/decision', '{"decision":"approve"}'],
      ['GET', 'datasets/ds-1/grants?limit=1000', ''],
      ['DELETE', 'grants/gr-1', '{"reason":"misuse"}'],
      ['DELETE', 'datasets/ds-1', '{"reason":"superseded"}'],
      ['POST', 'datasets/ds-1/versions', '{}'],
      ['GET', 'audit/verify', ''],
      ['GET', 'audit?dataset=ds-1&action=file.downloaded&since=2026-01-01&limit=10&offset=20', '']
    ]);
  });

  it('builds the routes of editing, bulk decisions, erasure and citation', async () => {
    const { client, requests } = fakeClient(() => json({ results: [] }));
    await client.update('ds-1', { title: 'New', access: { level: 'open' }, privacy_override: { reason: 'consented' } });
    await client.decideMany(['req-1', 'req-2', 'req-1'], 'deny', '  out of scope ');
    await client.erasePersonalData('req-1');
    await client.citation('ds-1');
    const seen = await Promise.all(
      requests.map(async r => [r.method, noBuster(r.url).replace('http://localhost:8888/user/ada/datashare/api/', ''), await r.text()])
    );
    expect(seen).toEqual([
      ['PATCH', 'datasets/ds-1', '{"title":"New","access":{"level":"open"},"privacy_override":{"reason":"consented"}}'],
      ['POST', 'requests/decisions', '{"requests":["req-1","req-2"],"decision":"deny","reason":"out of scope"}'],
      ['DELETE', 'requests/req-1/personal-data', ''],
      ['GET', 'datasets/ds-1/citation', '']
    ]);
  });

  it('sends each request of a bulk decision once, without a blank reason', () => {
    expect(bulkDecisionBody(['req-2', 'req-1', 'req-2'], 'approve', '   ')).toEqual({
      requests: ['req-2', 'req-1'],
      decision: 'approve'
    });
    expect(bulkDecisionBody(['req-1'], 'deny', ' duplicate request\n')).toEqual({
      requests: ['req-1'],
      decision: 'deny',
      reason: 'duplicate request'
    });
  });

  it('fetches exports with the token, as a blob', async () => {
    const { client, requests } = fakeClient(() => new Response('seq,ts\n1,x\n', { status: 200 }));
    const blob = await client.exportAudit('csv');
    expect(await blob.text()).toBe('seq,ts\n1,x\n');
    expect(noBuster(requests[0].url)).toMatch(/\/datashare\/api\/audit\?format=csv$/);
    expect(requests[0].headers.get('Authorization')).toBe('token secret-token');
  });

  it('makes landing page paths absolute', () => {
    const { client } = fakeClient(() => json({}));
    expect(client.absolute('/user/ada/datashare/d/ds-1')).toBe('http://localhost:8888/user/ada/datashare/d/ds-1');
    expect(client.absolute('https://data.example.org/datashare/r/x')).toBe(
      'https://data.example.org/datashare/r/x'
    );
  });

  it('never makes a link of anything but http(s)', () => {
    const { client } = fakeClient(() => json({}));
    for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,x', 'vbscript:x']) {
      expect(client.absolute(bad)).toBe('about:blank');
    }
  });
});

describe('errors', () => {
  it('reads the field the server names', async () => {
    const { client } = fakeClient(() =>
      json(
        {
          error: 'InvalidInput',
          message: 'access.embargo_until: must be in the future',
          field: 'access.embargo_until'
        },
        400
      )
    );
    const error = await client
      .share({ path: 'a', title: 'A', access: { level: 'embargoed', embargo_until: '2000-01-01' } })
      .catch(e => e);
    expect(error).toBeInstanceOf(DataShareError);
    expect(error.status).toBe(400);
    expect(error.field).toBe('access.embargo_until');
    expect(error.message).toBe('access.embargo_until: must be in the future');
    expect(error.fieldMessage).toBe('must be in the future');
  });

  it("keeps the privacy check's findings that come with a refusal", async () => {
    const findings = [{ file: 'people.csv', column: 'email', kind: 'e-mail address', count: 12 }];
    const { client } = fakeClient(() =>
      json(
        {
          error: 'InvalidInput',
          message: 'privacy_override: the privacy check found 1 possible direct identifier(s)',
          field: 'privacy_override',
          findings
        },
        400
      )
    );
    const error = await client.update('ds-1', { access: { level: 'open' } }).catch(e => e);
    expect(error.field).toBe('privacy_override');
    expect(error.findings).toEqual(findings);
    expect(new DataShareError('x', 400).findings).toEqual([]);
  });

  it('copes with answers that are not JSON', async () => {
    const { client } = fakeClient(() => new Response('<html>oops</html>', { status: 502, statusText: 'Bad Gateway' }));
    const error = await client.listDatasets().catch(e => e);
    expect(error).toBeInstanceOf(DataShareError);
    expect(error.status).toBe(502);
    expect(error.field).toBeNull();
    expect(error.message).toBe('Bad Gateway');
  });

  it('reports a server that cannot be reached', async () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      fetch: () => Promise.reject(new TypeError('Failed to fetch'))
    });
    const error = await new DataShareClient(settings).listDatasets().catch(e => e);
    expect(error).toBeInstanceOf(DataShareError);
    expect(error.status).toBe(0);
    expect(error.message).toMatch(/Could not reach the Jupyter server/);
  });

  it('maps a server field onto the most specific field a form shows', () => {
    const known = ['title', 'committee.members', 'committee.members[0]', 'committee.members[0].email', 'use_conditions'];
    expect(matchField('title', known)).toBe('title');
    expect(matchField('committee.members[0].email', known)).toBe('committee.members[0].email');
    expect(matchField('committee.members[0].name', known)).toBe('committee.members[0]');
    expect(matchField('committee.members[3]', known)).toBe('committee.members');
    expect(matchField('use_conditions[1]', known)).toBe('use_conditions');
    expect(matchField('titles', known)).toBeNull();
    expect(matchField('body', known)).toBeNull();
    expect(matchField(null, known)).toBeNull();
  });

  it('gives a form the message for a field or for its banner', () => {
    const e = new DataShareError('committee.members[0].email: must be an e-mail address', 400, 'InvalidInput', 'committee.members[0].email');
    expect(errorForForm(e, ['committee.members[0].email'])).toEqual({
      field: 'committee.members[0].email',
      message: 'must be an e-mail address'
    });
    // Shown on a parent field, the message keeps naming the exact field.
    expect(errorForForm(e, ['committee.members'])).toEqual({
      field: 'committee.members',
      message: 'committee.members[0].email: must be an e-mail address'
    });
    expect(errorForForm(e, ['title'])).toEqual({
      field: '',
      message: 'committee.members[0].email: must be an e-mail address'
    });
    expect(errorForForm(new Error('boom'), ['title'])).toEqual({ field: '', message: 'boom' });
    // A translation maps the body's list index back to the form's row.
    expect(
      errorForForm(e, ['committee.members[2].email'], f => f?.replace('[0]', '[2]') ?? null)
    ).toEqual({ field: 'committee.members[2].email', message: 'must be an e-mail address' });
  });
});
