/**
 * The share form in a DOM: a server error lands next to the field it names, and the form shows
 * the freezing state while the request runs.
 */
import { ServerConnection } from '@jupyterlab/services';
import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { DataShareClient, DataShareError } from '../api';
import { ShareForm } from '../components/ShareForm';
import { initialState } from '../shareForm';
import type { ShareBody, ShareResult } from '../types';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLDivElement;
let root: Root;

beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

/** A real client whose server answers a share with `share` (201, or the error it throws). */
function stubClient(share: (body: ShareBody) => Promise<ShareResult>): DataShareClient {
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    fetch: async (input: RequestInfo) => {
      const body = JSON.parse(await (input as Request).text());
      try {
        return new Response(JSON.stringify(await share(body)), { status: 201 });
      } catch (e) {
        const { message, status, error, field } = e as DataShareError;
        return new Response(JSON.stringify({ message, error, field }), { status });
      }
    }
  });
  return new DataShareClient(settings);
}

const click = (el: Element | null) => {
  if (!el) {
    throw new Error('element not found');
  }
  act(() => {
    (el as HTMLElement).click();
  });
};

const labelled = (text: string): HTMLInputElement => {
  const label = [...container.querySelectorAll('label')].find(l => l.textContent?.trim().startsWith(text));
  if (!label) {
    throw new Error(`no label ${text}`);
  }
  return container.querySelector(`#${CSS.escape(label.htmlFor)}`) as HTMLInputElement;
};

async function submit() {
  await act(async () => {
    container.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

it('shows a server error next to the field it names', async () => {
  const sent: ShareBody[] = [];
  const client = stubClient(async body => {
    sent.push(body);
    throw new DataShareError('access.embargo_until: must be in the future', 400, 'InvalidInput', 'access.embargo_until');
  });
  act(() => {
    root.render(<ShareForm client={client} initial={initialState({ path: 'data.csv', isDir: false, embargoUntil: '2020-01-01' })} />);
  });
  click(labelled('Embargoed').closest('.jp-DataShare-choice')!.querySelector('input'));
  await submit();

  expect(sent[0].access).toEqual({ level: 'embargoed', embargo_until: '2020-01-01', after_embargo: 'open' });
  const date = labelled('Embargo until');
  expect(date.getAttribute('aria-invalid')).toBe('true');
  const error = document.getElementById(date.getAttribute('aria-describedby')!);
  expect(error?.textContent).toBe('must be in the future');
  expect(error?.getAttribute('role')).toBe('alert');
  // The error sits in the embargo field, and the focus moved to that field.
  expect(date.closest('.jp-DataShare-field')!.contains(error)).toBe(true);
  expect(document.activeElement).toBe(date);
  expect(container.querySelector('.jp-DataShare-banner-error')).toBeNull();
});

it('shows an error without a known field in the banner', async () => {
  const client = stubClient(async () => {
    throw new DataShareError('no dataset here', 404, 'NotFound');
  });
  act(() => {
    root.render(<ShareForm client={client} initial={initialState({ path: 'data.csv', isDir: false })} />);
  });
  await submit();
  expect(container.querySelector('.jp-DataShare-banner-error')?.textContent).toContain('no dataset here');
});

it('says it is freezing, then what was shared and the committee links', async () => {
  let finish: (r: ShareResult) => void = () => undefined;
  const client = stubClient(() => new Promise<ShareResult>(resolve => (finish = resolve)));
  act(() => {
    root.render(<ShareForm client={client} initial={initialState({ path: 'big', isDir: true })} />);
  });
  await submit();
  expect(container.querySelector('form')!.getAttribute('aria-busy')).toBe('true');
  expect(container.textContent).toMatch(/Freezing the folder… 0:0\d elapsed/);
  expect((container.querySelector('[data-testid="datashare-share-submit"]') as HTMLButtonElement).disabled).toBe(true);

  await act(async () => {
    finish({
      id: 'ds-1',
      title: 'big',
      version: 1,
      file_count: 3,
      total_size: 3 * 1024 * 1024,
      landing_page: '/datashare/d/ds-1',
      access: { level: 'restricted', level_in_force: 'restricted', embargo_until: null, after_embargo: null },
      license: { id: 'CC-BY-4.0', name: 'Creative Commons Attribution 4.0' },
      committee_links: [{ member_id: 'cm-1', name: 'Dr Ext', email: 'ext@uni.example', url: 'http://x/datashare/c/dsc_secret' }]
    } as ShareResult);
  });
  expect(container.querySelector('[data-testid="datashare-share-summary"]')?.textContent).toBe('3 files, 3 MiB');
  const links = container.querySelector('[data-testid="datashare-committee-links"]')!;
  expect((links.querySelector('input') as HTMLInputElement).value).toBe('http://x/datashare/c/dsc_secret');
  expect(links.querySelector('button[aria-label^="Copy"]')).not.toBeNull();
});
