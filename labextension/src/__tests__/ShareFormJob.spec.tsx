/**
 * The share form with a job on the server: a progress bar with files and bytes done, an error
 * of a failed job at its field, and a Stop button that stops the job.
 */
import { ServerConnection } from '@jupyterlab/services';
import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { DataShareClient } from '../api';
import { ShareForm } from '../components/ShareForm';
import type { IJob } from '../jobs';
import { initialState } from '../shareForm';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const MIB = 1024 * 1024;
let container: HTMLDivElement;
let root: Root;

beforeEach(() => {
  jest.useFakeTimers();
  container = document.createElement('div');
  document.body.appendChild(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
  jest.useRealTimers();
});

function job(patch: Partial<IJob> = {}): IJob {
  return {
    id: 'job-1',
    kind: 'share',
    state: 'running',
    bytes_done: 0,
    bytes_total: 3 * MIB,
    files_done: 0,
    files_total: 3,
    started: '2026-03-01T12:00:00Z',
    finished: null,
    dataset: null,
    committee_links: [],
    error: null,
    ...patch
  };
}

const DATASET = {
  id: 'ds-1',
  title: 'big',
  version: 1,
  file_count: 3,
  total_size: 3 * MIB,
  landing_page: '/datashare/d/ds-1',
  access: { level: 'open', level_in_force: 'open', embargo_until: null, after_embargo: null },
  license: { id: 'CC-BY-4.0', name: 'Creative Commons Attribution 4.0' }
};

/** A real client; the server answers `METHOD path` from a script, each answer in turn. */
function server(answers: Record<string, Array<[number, unknown]>>) {
  const seen: string[] = [];
  const turn: Record<string, number> = {};
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    fetch: async (input: RequestInfo) => {
      const request = input as Request;
      const url = new URL(request.url);
      const key = `${request.method} ${url.pathname.replace('/datashare/api/', '')}${url.search.replace(/[?&]\d{12,}$/, '')}`;
      seen.push(key);
      const script = answers[key];
      if (!script) {
        throw new Error(`unexpected ${key}`);
      }
      const [status, body] = script[Math.min(turn[key] ?? 0, script.length - 1)];
      turn[key] = (turn[key] ?? 0) + 1;
      return new Response(JSON.stringify(body), { status });
    }
  });
  return { client: new DataShareClient(settings), seen };
}

function render(client: DataShareClient) {
  act(() => {
    root.render(<ShareForm client={client} initial={initialState({ path: 'big', isDir: true })} onClose={() => undefined} />);
  });
}

async function submit() {
  await act(async () => {
    container.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
}

/** Let the form's next poll happen (it asks every 400 ms). */
async function nextPoll() {
  await act(async () => {
    await jest.advanceTimersByTimeAsync(450);
  });
}

const bar = () => container.querySelector('progress[aria-label="Sharing progress"]') as HTMLProgressElement | null;
const byTestId = (testid: string) => container.querySelector(`[data-testid="${testid}"]`) as HTMLButtonElement;

it('shows files and bytes done while the job runs, then what was shared', async () => {
  const { client, seen } = server({
    'POST datasets?async=1': [[202, { job: job() }]],
    'GET jobs/job-1': [
      [200, job({ files_done: 2, bytes_done: 2 * MIB })],
      [200, job({ state: 'done', files_done: 3, bytes_done: 3 * MIB, dataset: DATASET as any })]
    ]
  });
  render(client);
  await submit();
  expect(bar()!.value).toBe(0);
  expect(byTestId('datashare-share-progress').textContent).toBe('0 of 3 files, 0 of 3 MiB');
  expect(byTestId('datashare-share-submit').disabled).toBe(true);

  await nextPoll();
  expect(bar()!.value).toBeCloseTo(2 / 3);
  expect(bar()!.getAttribute('aria-valuetext')).toBe('2 of 3 files, 2 of 3 MiB');
  expect(container.querySelector('form')!.getAttribute('aria-busy')).toBe('true');

  await nextPoll();
  expect(container.querySelector('[data-testid="datashare-share-summary"]')?.textContent).toBe('3 files, 3 MiB');
  expect(seen).toEqual(['POST datasets?async=1', 'GET jobs/job-1', 'GET jobs/job-1']);
});

it('shows the error of a failed job next to the field it names', async () => {
  const error = { error: 'InvalidInput', message: "path: 'b2.csv' changed or could not be read", field: 'path', status: 400 };
  const { client } = server({
    'POST datasets?async=1': [[202, { job: job() }]],
    'GET jobs/job-1': [[200, job({ state: 'failed', files_done: 1, bytes_done: MIB, error })]]
  });
  render(client);
  await submit();
  await nextPoll();
  const path = container.querySelector('code[data-field="path"]')!;
  const message = path.closest('header')!.querySelector('[role="alert"]');
  expect(message?.textContent).toBe("'b2.csv' changed or could not be read");
  expect(bar()).toBeNull();
  expect(byTestId('datashare-share-submit').disabled).toBe(false);
});

it('stops the job on the server when asked, and the form can be sent again', async () => {
  const { client, seen } = server({
    'POST datasets?async=1': [[202, { job: job() }]],
    'GET jobs/job-1': [[200, job({ files_done: 1, bytes_done: MIB })]],
    'DELETE jobs/job-1': [[200, job({ files_done: 1, bytes_done: MIB })]]
  });
  render(client);
  await submit();
  await nextPoll();
  act(() => byTestId('datashare-share-stop').click());
  await nextPoll();
  expect(seen).toContain('DELETE jobs/job-1');
  expect(container.querySelector('.jp-DataShare-banner-info')?.textContent).toContain('nothing was shared');
  expect(byTestId('datashare-share-submit').disabled).toBe(false);
  expect(container.querySelector('fieldset')!.disabled).toBe(false);
});
