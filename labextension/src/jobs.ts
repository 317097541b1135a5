/**
 * Sharing as a background job (`POST datashare/api/datasets?async=1`, then
 * `GET datashare/api/jobs/{id}` until it ends): pure functions, tested with Jest.
 *
 * The server checks the body before it answers, so a bad field fails at once, as before; the
 * freeze then runs on the server while the form shows how far it got and stays usable.
 */
import { DataShareClient, DataShareError, NetworkFailure } from './api';
import { plural } from './format';
import type { CommitteeLink, DatasetDetail, ShareBody, ShareResult } from './types';

export type JobState = 'running' | 'done' | 'failed';

/** Why a job failed: what the same request would have answered, naming the field if any. */
export interface IJobError {
  error?: string;
  message: string;
  field: string | null;
  status: number;
}

/** `GET datashare/api/jobs/{id}`. */
export interface IJob {
  id: string;
  kind: 'share' | 'version';
  state: JobState;
  bytes_done: number;
  bytes_total: number;
  files_done: number;
  files_total: number;
  started: string;
  finished: string | null;
  /** The owner's view of the dataset, once done. */
  dataset: DatasetDetail | null;
  /** Personal links of new external committee members: in the first answer after done only. */
  committee_links: CommitteeLink[];
  error: IJobError | null;
}

/** The part of the client the job functions use (the real `DataShareClient` in the panel). */
export type JobClient = Pick<DataShareClient, 'request'>;

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** How often the form asks how far a job got. */
export const POLL_EVERY_MS = 400;

/** Polls that may fail in a row (a network blip) before the wait gives up. */
const NETWORK_RETRIES = 3;

/** Nobody waits for the job any more; it goes on on the server. */
export class StoppedWaiting extends Error {
  constructor() {
    super('Stopped waiting for the job; it goes on on the server.');
    this.name = 'StoppedWaiting';
  }
}

/** The job was stopped at its owner's request; nothing was shared. */
export class JobCancelled extends Error {
  constructor(message = 'Sharing was cancelled; nothing was shared.') {
    super(message);
    this.name = 'JobCancelled';
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * `done` and `total` bytes in the unit of the total: `1.5 of 12 MiB`, `300 of 900 B`.
 * One unit reads faster than two while the first number moves.
 */
export function bytesOfTotal(done: number, total: number): string {
  let unit = 0;
  while (total >= 1024 ** (unit + 1) && unit < UNITS.length - 1) {
    unit++;
  }
  const scale = 1024 ** unit;
  const show = (bytes: number) => {
    const value = bytes / scale;
    if (unit === 0) {
      return String(Math.round(value));
    }
    const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
    const fixed = value.toFixed(digits);
    return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
  };
  return `${show(Math.min(done, total))} of ${show(total)} ${UNITS[unit]}`;
}

/** `2 of 5 files, 1.5 of 12 MiB`. */
export function describeProgress(job: IJob): string {
  const files =
    job.files_total === 1
      ? `${job.files_done} of 1 file`
      : `${job.files_done} of ${plural(job.files_total, 'file')}`;
  return `${files}, ${bytesOfTotal(job.bytes_done, job.bytes_total)}`;
}

/** How far a job got, from 0 to 1 (by bytes; by files when there are no bytes to copy). */
export function progressFraction(job: IJob): number {
  if (job.state === 'done') {
    return 1;
  }
  const [done, total] =
    job.bytes_total > 0
      ? [job.bytes_done, job.bytes_total]
      : [job.files_done, job.files_total];
  return total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
}

/** A failed job's error as the error the direct request would have thrown (shown at its field). */
export function jobError(job: IJob): DataShareError {
  const e = job.error;
  if (!e) {
    return new DataShareError('The job failed without saying why.', 500);
  }
  return new DataShareError(e.message, e.status, e.error ?? '', e.field ?? null);
}

/** What the direct `POST datasets` answers, from a finished share job. */
export function shareResultOf(job: IJob): ShareResult {
  if (!job.dataset) {
    throw new DataShareError('The job finished without a dataset.', 500);
  }
  return { ...job.dataset, committee_links: job.committee_links } as ShareResult;
}

export interface IWaitOptions {
  /** Told about every answer while the job runs (and the last one). */
  onProgress?: (job: IJob) => void;
  /** Aborting stops waiting and asks the server to stop the job. */
  signal?: AbortSignal;
  /** Aborting only stops waiting (the form was closed): the job goes on, its dataset appears in the list. */
  detach?: AbortSignal;
  sleep?: Sleep;
  interval?: number;
}

function jobPath(id: string): string {
  return `jobs/${encodeURIComponent(id)}`;
}

/** Ask the server to stop a job (it stops at its next chunk; nothing is stored). */
export function cancelJob(client: JobClient, id: string): Promise<IJob> {
  return client.request<IJob>(jobPath(id), { method: 'DELETE' });
}

/**
 * Poll a job until it is done; resolves to its last state. A failed job rejects with its error
 * (a `DataShareError` naming the field); an abort rejects with `JobCancelled` after asking the
 * server to stop the job.
 */
export async function waitForJob(
  client: JobClient,
  job: IJob,
  options: IWaitOptions = {}
): Promise<IJob> {
  const pause = options.sleep ?? sleep;
  const interval = options.interval ?? POLL_EVERY_MS;
  let current = job;
  let failures = 0;
  for (;;) {
    if (options.signal?.aborted) {
      await cancelJob(client, current.id).catch(() => undefined);
      throw new JobCancelled();
    }
    if (options.detach?.aborted) {
      throw new StoppedWaiting();
    }
    options.onProgress?.(current);
    if (current.state === 'done') {
      return current;
    }
    if (current.state === 'failed') {
      throw jobError(current);
    }
    await pause(interval);
    if (options.signal?.aborted || options.detach?.aborted) {
      continue;
    }
    try {
      current = await client.request<IJob>(jobPath(current.id));
      failures = 0;
    } catch (reason) {
      if (!(reason instanceof NetworkFailure) || ++failures > NETWORK_RETRIES) {
        throw reason;
      }
    }
  }
}

/**
 * Share as a background job and wait for it: resolves to what the direct request answers.
 * A bad body is refused at once (the server checks it before it starts the job).
 */
export async function shareInBackground(
  client: JobClient,
  body: ShareBody,
  options: IWaitOptions = {}
): Promise<ShareResult> {
  const answer = await client.request<{ job?: IJob } & Partial<ShareResult>>(
    'datasets',
    { method: 'POST', body, query: { async: 1 } }
  );
  if (!answer.job) {
    // A server that shares without jobs answers with the dataset itself (201).
    return answer as ShareResult;
  }
  return shareResultOf(await waitForJob(client, answer.job, options));
}

/**
 * Publish a new version as a background job and wait for it: resolves to the owner's view of
 * the dataset at its new version, as the direct `POST datasets/{id}/versions` answers.
 */
export async function publishInBackground(
  client: JobClient,
  datasetId: string,
  options: IWaitOptions = {}
): Promise<DatasetDetail> {
  const answer = await client.request<{ job?: IJob } & Partial<DatasetDetail>>(
    `datasets/${encodeURIComponent(datasetId)}/versions`,
    { method: 'POST', body: {}, query: { async: 1 } }
  );
  if (!answer.job) {
    return answer as DatasetDetail;
  }
  const done = await waitForJob(client, answer.job, options);
  if (!done.dataset) {
    throw new DataShareError('The job finished without a dataset.', 500);
  }
  return done.dataset;
}
