/**
 * Signing a checkpoint from the audit view: the note comes back in the form the CLI's
 * `audit verify --checkpoint FILE` reads, and an empty log says there is nothing to sign.
 */
import { ServerConnection } from '@jupyterlab/services';
import * as React from 'react';

import { DataShareClient } from '../api';
import { Checkpoint, checkpointFile } from '../components/Checkpoint';
import { button, click, IDom, mount, settle } from './dom';

const NOTE = 'localhost/datashare\n12\nq5b2dGw1ZbqSg0CQmO3PbJ4ZXZd0dJzVZrGz0Wlpb3c=\n\n— datashare Ab12Cd34sig==\n';

function clientAnswering(body: unknown, requests: Request[] = []): DataShareClient {
  return new DataShareClient(
    ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      fetch: async (input: RequestInfo) => {
        requests.push(input as Request);
        return new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
      }
    })
  );
}

let dom: IDom;
beforeEach(() => (dom = mount()));
afterEach(() => dom.unmount());

describe('the checkpoint button', () => {
  it('signs with a POST and shows the note and verifier key as the CLI prints them', async () => {
    const requests: Request[] = [];
    const client = clientAnswering({ checkpoint: NOTE, verifier_key: 'datashare+ab12cd34+AQID' }, requests);
    await dom.render(<Checkpoint client={client} />);
    await click(button(dom.container, 'Sign checkpoint'));
    await settle();
    expect(requests.map(r => [r.method, new URL(r.url).pathname])).toEqual([['POST', '/datashare/api/audit/checkpoint']]);
    const shown = dom.container.querySelector('[data-testid="datashare-checkpoint-note"]')?.textContent;
    expect(shown).toBe(`${NOTE}verifier key: datashare+ab12cd34+AQID\n`);
    expect(checkpointFile({ checkpoint: NOTE, verifier_key: 'k' }).endsWith('\nverifier key: k\n')).toBe(true);
  });

  it('says so when the log is still empty', async () => {
    await dom.render(<Checkpoint client={clientAnswering({ checkpoint: null, verifier_key: 'k' })} />);
    await click(button(dom.container, 'Sign checkpoint'));
    await settle();
    expect(dom.container.textContent).toContain('nothing to sign yet');
    expect(dom.container.querySelector('[data-testid="datashare-checkpoint-note"]')).toBeNull();
  });
});
