import { ServerConnection } from '@jupyterlab/services';

import { DataShareClient, DataShareError } from '../api';
import {
  bytesOfTotal,
  describeProgress,
  IJob,
  JobCancelled,
  progressFraction,
  publishInBackground,
  shareInBackground,
  StoppedWaiting
} from '../jobs';
import type { ShareBody } from '../types';

const MIB = 1024 * 1024;
const BODY: ShareBody = {
  path: 'big',
  title: 'Big folder',
  description: '',
  creators: [],
  keywords: [],
  access: { level: 'open' }
} as ShareBody;

function job(patch: Partial<IJob> = {}): IJob {
  return {
    id: 'job-1',
    kind: 'share',
    state: 'running',
    bytes_done: 0,
    bytes_total: 12 * MIB,
    files_done: 0,
    files_total: 5,
    started: '2026-03-01T12:00:00Z',
    finished: null,
    dataset: null,
    committee_links: [],
    error: null,
    ...patch
  };
}

const DATASET = { id: 'ds-1', title: 'Big folder', version: 1, file_count: 5, total_size: 12 * MIB };

interface ISeen {
  method: string;
  path: string;
  body: unknown;
}

/**
 * A real client talking to a scripted server: `answers` maps `METHOD path` to the JSON bodies
 * (and statuses) it answers, in turn; the last one repeats.
 */
function server(answers: Record<string, Array<[number, unknown] | 'network-down'>>) {
  const seen: ISeen[] = [];
  const turn: Record<string, number> = {};
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    wsUrl: 'ws://localhost:8888/',
    token: 'secret-token',
    fetch: async (input: RequestInfo) => {
      const request = input as Request;
      const url = new URL(request.url);
      const path = url.pathname.replace('/datashare/api/', '') + url.search.replace(/[?&]\d{12,}$/, '');
      const text = await request.text();
      seen.push({ method: request.method, path, body: text ? JSON.parse(text) : null });
      const key = `${request.method} ${path}`;
      const script = answers[key];
      if (!script) {
        throw new Error(`unexpected ${key}`);
      }
      const i = Math.min(turn[key] ?? 0, script.length - 1);
      turn[key] = (turn[key] ?? 0) + 1;
      const answer = script[i];
      if (answer === 'network-down') {
        throw new TypeError('Failed to fetch');
      }
      return new Response(JSON.stringify(answer[1]), {
        status: answer[0],
        headers: { 'Content-Type': 'application/json' }
      });
    }
  });
  return { client: new DataShareClient(settings), seen };
}

const noWait = (slept: number[]) => async (ms: number) => {
  slept.push(ms);
};

describe('how progress reads', () => {
  it('says files and bytes done, in the unit of the total', () => {
    expect(describeProgress(job({ files_done: 2, bytes_done: 1.5 * MIB }))).toBe('2 of 5 files, 1.5 of 12 MiB');
    expect(describeProgress(job({ files_total: 1, bytes_total: 900, bytes_done: 300 }))).toBe('0 of 1 file, 300 of 900 B');
    expect(bytesOfTotal(0, 0)).toBe('0 of 0 B');
    expect(bytesOfTotal(512 * MIB, 2048 * MIB)).toBe('0.5 of 2 GiB');
    expect(bytesOfTotal(3 * MIB, 2 * MIB)).toBe('2 of 2 MiB'); // never more done than there is
  });

  it('measures by bytes, or by files when there are no bytes', () => {
    expect(progressFraction(job({ bytes_done: 3 * MIB }))).toBe(0.25);
    expect(progressFraction(job({ bytes_total: 0, files_total: 4, files_done: 1 }))).toBe(0.25);
    expect(progressFraction(job({ bytes_total: 0, files_total: 0 }))).toBe(0);
    expect(progressFraction(job({ state: 'done', bytes_total: 0, files_total: 0 }))).toBe(1);
  });
});

describe('sharing in the background', () => {
  it('starts a job, polls it until done and answers like the direct request', async () => {
    const link = { member_id: 'cm-1', name: 'Dr Ext', email: 'ext@uni.example', url: 'http://x/datashare/c/dsc_1' };
    const { client, seen } = server({
      'POST datasets?async=1': [[202, { job: job() }]],
      'GET jobs/job-1': [
        [200, job({ files_done: 2, bytes_done: 4 * MIB })],
        [200, job({ state: 'done', files_done: 5, bytes_done: 12 * MIB, dataset: DATASET as any, committee_links: [link] })]
      ]
    });
    const slept: number[] = [];
    const progress: string[] = [];
    const out = await shareInBackground(client, BODY, {
      sleep: noWait(slept),
      interval: 300,
      onProgress: j => progress.push(`${j.state}: ${describeProgress(j)}`)
    });
    expect(seen[0]).toEqual({ method: 'POST', path: 'datasets?async=1', body: BODY });
    expect(seen.map(s => `${s.method} ${s.path}`).slice(1)).toEqual(['GET jobs/job-1', 'GET jobs/job-1']);
    expect(slept).toEqual([300, 300]);
    expect(progress).toEqual([
      'running: 0 of 5 files, 0 of 12 MiB',
      'running: 2 of 5 files, 4 of 12 MiB',
      'done: 5 of 5 files, 12 of 12 MiB'
    ]);
    expect(out).toEqual({ ...DATASET, committee_links: [link] });
  });

  it('rejects a bad body at once, naming the field, without polling', async () => {
    const { client, seen } = server({
      'POST datasets?async=1': [[400, { error: 'InvalidInput', message: 'title: must not be empty', field: 'title' }]]
    });
    const failure = shareInBackground(client, BODY, { sleep: noWait([]) });
    await expect(failure).rejects.toMatchObject({ status: 400, field: 'title', fieldMessage: 'must not be empty' });
    expect(seen).toHaveLength(1);
  });

  it('turns a failed job into the error of its field', async () => {
    const error = { error: 'InvalidInput', message: "path: 'b2.csv' could not be read", field: 'path', status: 400 };
    const { client } = server({
      'POST datasets?async=1': [[202, { job: job() }]],
      'GET jobs/job-1': [[200, job({ state: 'failed', files_done: 1, error })]]
    });
    const reason = await shareInBackground(client, BODY, { sleep: noWait([]) }).catch(e => e);
    expect(reason).toBeInstanceOf(DataShareError);
    expect(reason).toMatchObject({ field: 'path', status: 400, fieldMessage: "'b2.csv' could not be read" });
  });

  it('asks the server to stop the job when cancelled', async () => {
    const { client, seen } = server({
      'POST datasets?async=1': [[202, { job: job() }]],
      'GET jobs/job-1': [[200, job({ files_done: 1 })]],
      'DELETE jobs/job-1': [[200, job({ files_done: 1 })]]
    });
    const stop = new AbortController();
    let polls = 0;
    const reason = await shareInBackground(client, BODY, {
      signal: stop.signal,
      sleep: noWait([]),
      onProgress: () => {
        if (++polls === 2) {
          stop.abort();
        }
      }
    }).catch(e => e);
    expect(reason).toBeInstanceOf(JobCancelled);
    expect(seen.map(s => `${s.method} ${s.path}`)).toEqual(['POST datasets?async=1', 'GET jobs/job-1', 'DELETE jobs/job-1']);
  });

  it('stops only waiting when the form goes away: the job goes on', async () => {
    const { client, seen } = server({
      'POST datasets?async=1': [[202, { job: job() }]],
      'GET jobs/job-1': [[200, job({ files_done: 1 })]]
    });
    const gone = new AbortController();
    const reason = await shareInBackground(client, BODY, {
      detach: gone.signal,
      sleep: async () => gone.abort()
    }).catch(e => e);
    expect(reason).toBeInstanceOf(StoppedWaiting);
    expect(seen.map(s => s.method)).toEqual(['POST']); // no DELETE: nobody asked to stop it
  });

  it('rides out a short network failure while polling, not a lost job', async () => {
    const done = job({ state: 'done', files_done: 5, bytes_done: 12 * MIB, dataset: DATASET as any });
    const { client } = server({
      'POST datasets?async=1': [[202, { job: job() }]],
      'GET jobs/job-1': ['network-down', 'network-down', [200, done]]
    });
    expect((await shareInBackground(client, BODY, { sleep: noWait([]) })).id).toBe('ds-1');

    const lost = server({
      'POST datasets?async=1': [[202, { job: job() }]],
      'GET jobs/job-1': [[404, { error: 'NotFound', message: "no job 'job-1'" }]]
    });
    await expect(shareInBackground(lost.client, BODY, { sleep: noWait([]) })).rejects.toMatchObject({ status: 404 });
  });

  it('takes the dataset itself from a server that answers at once', async () => {
    const { client } = server({ 'POST datasets?async=1': [[201, { ...DATASET, committee_links: [] }]] });
    expect(await shareInBackground(client, BODY, { sleep: noWait([]) })).toEqual({ ...DATASET, committee_links: [] });
  });
});

describe('publishing a version in the background', () => {
  it('posts to the versions route as a job and resolves to the new version', async () => {
    const detail = { ...DATASET, version: 2, latest_version: 2 };
    const { client, seen } = server({
      'POST datasets/ds%201/versions?async=1': [[202, { job: job({ kind: 'version' }) }]],
      'GET jobs/job-1': [[200, job({ kind: 'version', state: 'done', files_done: 5, bytes_done: 12 * MIB, dataset: detail as any })]]
    });
    const progress: string[] = [];
    const out = await publishInBackground(client, 'ds 1', { sleep: noWait([]), onProgress: j => progress.push(describeProgress(j)) });
    expect(seen.map(s => `${s.method} ${s.path}`)).toEqual(['POST datasets/ds%201/versions?async=1', 'GET jobs/job-1']);
    expect(progress).toEqual(['0 of 5 files, 0 of 12 MiB', '5 of 5 files, 12 of 12 MiB']);
    expect(out).toEqual(detail);
  });

  it('a dataset withdrawn meanwhile fails with the server\'s message', async () => {
    const error = { error: 'InvalidInput', message: 'id: the dataset was withdrawn while the version was being frozen', field: 'id', status: 400 };
    const { client } = server({
      'POST datasets/ds-1/versions?async=1': [[202, { job: job({ kind: 'version' }) }]],
      'GET jobs/job-1': [[200, job({ kind: 'version', state: 'failed', error })]]
    });
    await expect(publishInBackground(client, 'ds-1', { sleep: noWait([]) })).rejects.toMatchObject({ field: 'id', status: 400 });
  });
});
