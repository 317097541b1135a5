/**
 * The access form in a DOM: a change of level is confirmed first; when the privacy check finds
 * identifiers the form lists them and sends the reason to open anyway; new external committee
 * members' links are shown once.
 */
import { showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { DataShareClient, DataShareError } from '../api';
import { EditAccess } from '../components/EditAccess';
import type { ShareResult, UpdateBody } from '../types';
import { button, click, IDom, labelled, mount, settle, submit, type } from './dom';
import { detail, restricted } from './fixtures';

jest.mock('@jupyterlab/apputils', () => ({
  ...jest.requireActual('@jupyterlab/apputils'),
  showDialog: jest.fn()
}));
const confirm = showDialog as jest.Mock;

let dom: IDom;
beforeEach(() => {
  dom = mount();
  confirm.mockReset().mockResolvedValue({ button: { accept: true } });
});
afterEach(() => dom.unmount());

function stub(answers: ((body: UpdateBody) => Promise<ShareResult>)[]) {
  const client = new DataShareClient();
  const sent: UpdateBody[] = [];
  client.update = async (_id: string, body: UpdateBody) => {
    sent.push(body);
    return answers[sent.length - 1](body);
  };
  return { client, sent };
}

const form = () => dom.container.querySelector('form') as HTMLFormElement;
const reviewerOnly = detail({
  access: { level: 'reviewer-only', level_in_force: 'reviewer-only', embargo_until: null, after_embargo: null }
});

it('lists the privacy findings and opens the data only with a reason', async () => {
  const findings = [{ file: 'people.csv', column: 'email', kind: 'e-mail address', count: 12 }];
  const { client, sent } = stub([
    async () => {
      throw new DataShareError(
        'privacy_override: the privacy check found 1 possible direct identifier(s) (e-mail address); review them',
        400,
        'InvalidInput',
        'privacy_override',
        { findings }
      );
    },
    async () => ({ ...reviewerOnly, committee_links: [] })
  ]);
  const onSaved = jest.fn(async () => undefined);
  await dom.render(<EditAccess client={client} detail={reviewerOnly} committee={null} onSaved={onSaved} />);

  await click(labelled(dom.container, 'Open'));
  await submit(form());
  await settle();
  expect(confirm).toHaveBeenCalledTimes(1);
  expect(confirm.mock.calls[0][0].title).toBe('Make "Field measurements" open?');
  expect(sent[0]).toEqual({ access: { level: 'open' } });
  const list = dom.container.querySelector('[data-testid="datashare-privacy-findings"]')!;
  expect(list.textContent).toBe('e-mail address: 12 values in people.csv, column “email”');
  const reason = labelled<HTMLTextAreaElement>(dom.container, 'Why may the data be open anyway?');
  // The focus moves on a timer of its own after the error is shown: on a busy machine it runs later.
  for (let i = 0; i < 50 && document.activeElement !== reason; i++) {
    await settle();
  }
  expect(document.activeElement).toBe(reason);
  expect(onSaved).not.toHaveBeenCalled();

  await type(reason, 'Participants consented to publishing their contact e-mail.');
  await click(button(dom.container, 'Open anyway'));
  expect(sent[1]).toEqual({
    access: { level: 'open' },
    privacy_override: { reason: 'Participants consented to publishing their contact e-mail.' }
  });
  expect(onSaved).toHaveBeenCalled();
});

it('changes nothing when the confirmation is cancelled', async () => {
  confirm.mockResolvedValue({ button: { accept: false } });
  const { client, sent } = stub([]);
  await dom.render(<EditAccess client={client} detail={detail()} committee={null} onSaved={async () => undefined} />);
  await click(labelled(dom.container, 'Embargoed'));
  await type(labelled(dom.container, 'Embargo until'), '2027-01-31');
  await submit(form());
  expect(sent).toEqual([]);
});

it("saves a committee change without a confirmation and shows the new member's link once", async () => {
  const { detail: d, committee } = restricted();
  const { client, sent } = stub([
    async () => ({
      ...d,
      committee_links: [{ member_id: 'cm-3', name: 'Dr Ext', email: 'ext@uni.example', url: 'http://x/datashare/c/dsc_secret' }]
    })
  ]);
  await dom.render(<EditAccess client={client} detail={d} committee={committee} onSaved={async () => undefined} />);
  await click(button(dom.container, 'Add member'));
  const row = dom.container.querySelector('[aria-label="Member 3"]')!;
  await type(labelled<HTMLSelectElement>(row, 'Kind'), 'external');
  await type(labelled(row, 'Name'), 'Dr Ext');
  await type(labelled(row, 'E-mail'), 'ext@uni.example');
  await submit(form());

  expect(confirm).not.toHaveBeenCalled();
  expect(sent[0].committee?.members).toEqual([
    { username: 'bob' },
    { name: 'Dr Grace Hopper', email: 'grace@example.org' },
    { name: 'Dr Ext', email: 'ext@uni.example' }
  ]);
  expect(labelled(dom.container, 'Committee link for Dr Ext').value).toBe('http://x/datashare/c/dsc_secret');
});
