/**
 * The details form in a DOM: it sends what changed, says what was saved, and puts a server error
 * next to the field it names, with the focus there.
 */
import * as React from 'react';

import { DataShareClient, DataShareError } from '../api';
import { EditDetails } from '../components/EditDetails';
import type { ShareResult, UpdateBody } from '../types';
import { button, click, IDom, labelled, mount, settle, submit, type } from './dom';
import { detail } from './fixtures';

let dom: IDom;
beforeEach(() => (dom = mount()));
afterEach(() => dom.unmount());

function stub(answer: (body: UpdateBody) => Promise<ShareResult>) {
  const client = new DataShareClient();
  const sent: UpdateBody[] = [];
  client.update = async (_id: string, body: UpdateBody) => {
    sent.push(body);
    return answer(body);
  };
  return { client, sent };
}

const form = () => dom.container.querySelector('form') as HTMLFormElement;

it('saves only the new title and says so', async () => {
  const { client, sent } = stub(async () => ({ ...detail(), committee_links: [] }));
  const onSaved = jest.fn(async () => undefined);
  await dom.render(<EditDetails client={client} detail={detail()} onSaved={onSaved} />);
  expect(labelled(dom.container, 'Title').value).toBe('Field measurements');

  await type(labelled(dom.container, 'Title'), 'Soil temperature 2026');
  await submit(form());
  expect(sent).toEqual([{ title: 'Soil temperature 2026' }]);
  expect(onSaved).toHaveBeenCalled();
  expect(dom.container.querySelector('.jp-DataShare-banner-success')?.textContent).toContain('Saved the title.');
});

it('puts the server error next to the ORCID of the row it names and moves the focus there', async () => {
  const { client, sent } = stub(async () => {
    throw new DataShareError("creators[0].orcid: 'nope' is not a valid ORCID iD", 400, 'InvalidInput', 'creators[0].orcid');
  });
  await dom.render(<EditDetails client={client} detail={detail()} onSaved={async () => undefined} />);
  await type(labelled(dom.container, 'ORCID iD'), 'nope');
  await submit(form());
  await settle();

  expect(sent[0].creators).toEqual([{ name: 'Ada Lovelace', orcid: 'nope' }]);
  const orcid = labelled(dom.container, 'ORCID iD');
  expect(orcid.getAttribute('aria-invalid')).toBe('true');
  const message = document.getElementById(orcid.getAttribute('aria-describedby')!);
  expect(message?.textContent).toBe("'nope' is not a valid ORCID iD");
  expect(orcid.closest('.jp-DataShare-field')!.contains(message)).toBe(true);
  expect(document.activeElement).toBe(orcid);
  expect(dom.container.querySelector('.jp-DataShare-banner-error')).toBeNull();
});

it('does not call the server when nothing changed, and can undo edits', async () => {
  const { client, sent } = stub(async () => ({ ...detail(), committee_links: [] }));
  await dom.render(<EditDetails client={client} detail={detail()} onSaved={async () => undefined} />);
  await submit(form());
  expect(sent).toEqual([]);
  expect(dom.container.textContent).toContain('Nothing to save');

  await type(labelled(dom.container, 'Keywords'), 'changed');
  await click(button(dom.container, 'Undo changes'));
  expect(labelled(dom.container, 'Keywords').value).toBe('soil, temperature');
});

it('adds and removes creators by row', async () => {
  const { client, sent } = stub(async () => ({ ...detail(), committee_links: [] }));
  await dom.render(<EditDetails client={client} detail={detail()} onSaved={async () => undefined} />);
  await click(button(dom.container, 'Add creator'));
  const second = dom.container.querySelector('[aria-label="Creator 2"]')!;
  await type(labelled(second, 'Name'), 'Grace Hopper');
  await click(button(dom.container, 'Remove creator 1 (Ada Lovelace)'));
  await submit(form());
  expect(sent).toEqual([{ creators: [{ name: 'Grace Hopper' }] }]);
});

it('clears an error once its field is edited', async () => {
  const { client } = stub(async () => {
    throw new DataShareError('title: must not be empty', 400, 'InvalidInput', 'title');
  });
  await dom.render(<EditDetails client={client} detail={detail()} onSaved={async () => undefined} />);
  await type(labelled(dom.container, 'Title'), '');
  await submit(form());
  expect(labelled(dom.container, 'Title').getAttribute('aria-invalid')).toBe('true');
  await type(labelled(dom.container, 'Description'), 'Other field');
  expect(labelled(dom.container, 'Title').getAttribute('aria-invalid')).toBe('true');
  await type(labelled(dom.container, 'Title'), 'Soil');
  expect(labelled(dom.container, 'Title').getAttribute('aria-invalid')).toBeNull();
  expect(dom.container.querySelector('.jp-DataShare-fieldError')).toBeNull();
});
