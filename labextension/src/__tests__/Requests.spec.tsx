/**
 * The committee inbox in a DOM: several pending requests are decided at once (a denial needs a
 * reason, shown next to the reason box), a request the server skipped says why on its own card;
 * conflicts and the requester's details show; the owner can erase a requester's personal data.
 */
import { showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { DataShareClient, DataShareError } from '../api';
import { RequestList } from '../components/Requests';
import type { AccessRequest, BulkDecisionResult, Decision } from '../types';
import { button, click, IDom, labelled, mount, type } from './dom';
import { request } from './fixtures';

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

const alan = request();
const grace = request({
  id: 'req-2',
  name: 'Grace Hopper',
  email: 'grace@example.org',
  orcid: null,
  flags: ['HMB: the dataset is for health, medical or biomedical research only']
});

const card = (name: string) => dom.container.querySelector(`[aria-label="Access request from ${name}"]`)!;

it('approves and denies the selected requests at once', async () => {
  const client = new DataShareClient();
  const calls: [string[], Decision, string | undefined][] = [];
  client.decideMany = async (ids: string[], decision: Decision, reason?: string): Promise<BulkDecisionResult[]> => {
    calls.push([ids, decision, reason]);
    if (decision === 'deny' && !reason?.trim()) {
      throw new DataShareError('reason: a denial needs a written reason for the requester', 400, 'InvalidInput', 'reason');
    }
    return [
      { id: 'req-1', status: 'denied' },
      { id: 'req-2', error: 'decision: you have already decided this request' }
    ];
  };
  const onDecided = jest.fn();
  await dom.render(<RequestList client={client} requests={[alan, grace]} onDecided={onDecided} />);

  await click(labelled(dom.container, 'Select all 2 pending requests'));
  await click(button(dom.container, 'Deny 2 selected'));
  const reason = labelled<HTMLTextAreaElement>(dom.container, 'Reason for the selected');
  expect(reason.getAttribute('aria-invalid')).toBe('true');
  expect(document.getElementById(reason.getAttribute('aria-describedby')!)?.textContent).toBe(
    'a denial needs a written reason for the requester'
  );
  expect(onDecided).not.toHaveBeenCalled();

  await type(reason, 'Outside the consented use');
  await click(button(dom.container, 'Deny 2 selected'));
  expect(calls[1]).toEqual([['req-1', 'req-2'], 'deny', 'Outside the consented use']);
  expect(onDecided).toHaveBeenCalled();
  expect(dom.container.querySelector('.jp-DataShare-banner-success')?.textContent).toContain(
    'Recorded your 1 denial: 1 denied. 1 request could not be decided'
  );
  expect(card('Grace Hopper').textContent).toContain('you have already decided this request');
  expect(card('Alan Turing').querySelector('.jp-DataShare-banner-error')).toBeNull();
});

it("selects single requests, and shows conflicts and the requester's details", async () => {
  const client = new DataShareClient();
  const calls: string[][] = [];
  client.decideMany = async (ids: string[]) => {
    calls.push(ids);
    return ids.map(id => ({ id, status: 'approved' as const }));
  };
  await dom.render(<RequestList client={client} requests={[alan, grace]} />);
  const g = card('Grace Hopper');
  expect(g.querySelector('.jp-DataShare-flagTag')?.textContent).toBe('1 conflict');
  expect(g.textContent).toContain('HMB: the dataset is for health, medical or biomedical research only');
  const a = card('Alan Turing');
  expect(a.querySelector('a[href="mailto:alan@example.org"]')).not.toBeNull();
  expect(a.querySelector('a[href="https://orcid.org/0000-0001-2345-6789"]')).not.toBeNull();
  expect(a.textContent).toContain('University of Manchester');

  await click(g.querySelector('input[aria-label="Select the request of Grace Hopper"]')!);
  await click(button(dom.container, 'Approve 1 selected'));
  expect(calls).toEqual([['req-2']]);
});

it("erases a requester's personal data after a confirmation, for the owner only", async () => {
  const client = new DataShareClient();
  const erased: string[] = [];
  client.erasePersonalData = async (id: string): Promise<AccessRequest> => {
    erased.push(id);
    return { ...alan, name: '[erased]', email: '[erased]', institution: '[erased]', purpose: '[erased]', orcid: null };
  };
  const decided = { ...alan, status: 'denied' as const, reason: 'out of scope' };
  const onDecided = jest.fn();
  await dom.render(<RequestList client={client} requests={[decided]} canErase={() => true} onDecided={onDecided} />);
  await click(button(dom.container, 'Show 1 decided request'));
  await click(button(dom.container, 'Erase the personal data of Alan Turing'));
  expect(confirm.mock.calls[0][0].title).toBe('Erase the personal data of Alan Turing?');
  expect(erased).toEqual(['req-1']);
  expect(onDecided.mock.calls[0][0].name).toBe('[erased]');

  await dom.render(
    <RequestList client={client} requests={[{ ...decided, name: '[erased]', email: '[erased]' }]} canErase={() => true} />
  );
  expect(dom.container.textContent).toContain("The requester's personal data was erased.");
  expect(dom.container.querySelector('.jp-DataShare-erase')).toBeNull();

  await dom.render(<RequestList client={client} requests={[decided]} canErase={() => false} />);
  expect(dom.container.querySelector('.jp-DataShare-erase')).toBeNull();
});

it('does not erase when the confirmation is cancelled', async () => {
  confirm.mockResolvedValue({ button: { accept: false } });
  const client = new DataShareClient();
  client.erasePersonalData = jest.fn();
  await dom.render(<RequestList client={client} requests={[alan]} canErase={() => true} />);
  await click(button(dom.container, 'Erase the personal data of Alan Turing'));
  expect(client.erasePersonalData).not.toHaveBeenCalled();
});

describe('who decides', () => {
  const buttons = (el: Element) => [...el.querySelectorAll('button')].map(b => b.textContent?.trim());
  const steward = request({
    id: 'req-3',
    name: 'Rosalind Franklin',
    deciders: ['bob', 'Dr Grace Steward'],
    you_are_member: false,
    you_may_decide: false
  });

  it('shows the owner who is not on the committee no decision, and says who decides', async () => {
    const client = new DataShareClient();
    client.decide = jest.fn();
    await dom.render(<RequestList client={client} requests={[steward]} canErase={() => true} />);
    const c = card('Rosalind Franklin');
    expect(c.getAttribute('data-may-decide')).toBe('false');
    expect(buttons(c)).not.toContain('Approve');
    expect(buttons(c)).not.toContain('Deny');
    expect(c.querySelector('textarea')).toBeNull();
    expect(c.querySelector('[data-testid="datashare-who-decides"]')?.textContent).toBe(
      'Decided by the committee: bob, Dr Grace Steward (1 approval needed, a denial vetoes). ' +
        'You can read this request; you are not on its committee.'
    );
    // The owner may still erase the requester's personal data.
    expect(button(c, 'Erase the personal data of Rosalind Franklin')).toBeTruthy();
  });

  it('offers the decision to a member who may decide', async () => {
    await dom.render(<RequestList client={new DataShareClient()} requests={[alan]} />);
    const c = card('Alan Turing');
    expect(c.getAttribute('data-may-decide')).toBe('true');
    expect(button(c, 'Approve the request of Alan Turing')).toBeTruthy();
    expect(button(c, 'Deny the request of Alan Turing')).toBeTruthy();
    expect(c.textContent).toContain(
      'Decided by the committee: ada, Dr Grace Hopper (1 approval needed, a denial vetoes). You are on this committee.'
    );
  });

  it('says what a member who decided, or may not decide, is waiting for', async () => {
    const decided = request({ you_may_decide: false, your_decision: 'approve', required_approvals: 2, rule: 'majority' });
    const owner = request({ id: 'req-2', name: 'Grace Hopper', you_may_decide: false, deciders: [] });
    await dom.render(<RequestList client={new DataShareClient()} requests={[decided, owner]} />);
    expect(buttons(card('Alan Turing'))).not.toContain('Approve');
    expect(card('Alan Turing').textContent).toContain(
      '(2 approvals needed, by majority). You approved it; the other members have not all decided yet.'
    );
    expect(card('Grace Hopper').textContent).toContain(
      'No committee member can decide this request: add one under Committee. ' +
        'You are on this committee but may not decide this request'
    );
    // Neither may be decided: no selection either.
    expect(dom.container.querySelector('.jp-DataShare-bulk')).toBeNull();
    expect(dom.container.querySelector('input[type="checkbox"]')).toBeNull();
  });

  it('selects and decides at once only the requests the reader may decide', async () => {
    const client = new DataShareClient();
    const calls: string[][] = [];
    client.decideMany = async (ids: string[]) => {
      calls.push(ids);
      return ids.map(id => ({ id, status: 'approved' as const }));
    };
    await dom.render(<RequestList client={client} requests={[alan, grace, steward]} />);
    expect(card('Rosalind Franklin').querySelector('input[type="checkbox"]')).toBeNull();
    await click(labelled(dom.container, 'Select all 2 pending requests you may decide'));
    await click(button(dom.container, 'Approve 2 selected'));
    expect(calls).toEqual([['req-1', 'req-2']]);

    // One decidable request among several pending: no bulk bar, its own buttons only.
    await dom.render(<RequestList client={client} requests={[alan, steward]} />);
    expect(dom.container.querySelector('.jp-DataShare-bulk')).toBeNull();
    expect(button(card('Alan Turing'), 'Approve the request of Alan Turing')).toBeTruthy();
  });
});
