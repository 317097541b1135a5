/**
 * The client of the datashare REST API (`<base_url>/datashare/api/...`).
 *
 * Every request goes through `ServerConnection.makeRequest`, so the token, the base URL and the
 * XSRF header are handled exactly as JupyterLab handles them for its own services.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type {
  AuditEvent,
  BulkDecisionBody,
  BulkDecisionResult,
  Citation,
  CommitteeInfo,
  DatasetDetail,
  DatasetSummary,
  Decision,
  Grant,
  LinkCreateBody,
  NewLink,
  PrivacyFinding,
  ReviewLink,
  AccessRequest,
  ShareBody,
  ShareResult,
  UpdateBody,
  SignedCheckpoint,
  VerifyReport
} from './types';

/** The API prefix, relative to the server's base URL. */
export const API_PREFIX = 'datashare/api';

/** A query value; `undefined`, `null` and `''` are left out of the URL. */
export type QueryValue = string | number | boolean | null | undefined;

/**
 * An error answered by the server. For bad input (400) the server names the field the message is
 * about, e.g. `title`, `access.embargo_until` or `committee.members[0].email`.
 */
export class DataShareError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly error: string = '',
    readonly field: string | null = null,
    readonly details: Record<string, unknown> = {}
  ) {
    super(message);
    this.name = 'DataShareError';
  }

  /** The privacy check's findings, when the server refused to make data open because of them. */
  get findings(): PrivacyFinding[] {
    const found = this.details.findings;
    return Array.isArray(found) ? (found as PrivacyFinding[]) : [];
  }

  /** The message without its leading `field: ` (shown next to that field, it is redundant). */
  get fieldMessage(): string {
    const prefix = this.field ? `${this.field}: ` : '';
    return prefix && this.message.startsWith(prefix)
      ? this.message.slice(prefix.length)
      : this.message;
  }

  /** Turn a failed response into an error, reading the server's JSON body when there is one. */
  static async fromResponse(response: Response): Promise<DataShareError> {
    let body: any = null;
    try {
      const text = await response.text();
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    if (body && typeof body === 'object') {
      // Whatever else the error carries (e.g. the privacy check's findings) is kept for the form.
      const { error, message: _message, field, ...details } = body;
      const message =
        typeof body.message === 'string' && body.message
          ? body.message
          : response.statusText || `HTTP ${response.status}`;
      return new DataShareError(
        message,
        response.status,
        typeof error === 'string' ? error : '',
        typeof field === 'string' && field ? field : null,
        details
      );
    }
    return new DataShareError(
      response.statusText || `The server answered ${response.status}`,
      response.status
    );
  }
}

/** A failure to reach the server at all (network down, server stopped). */
export class NetworkFailure extends DataShareError {
  constructor(message: string) {
    super(message, 0, 'NetworkError');
  }
}

/** Build `path?query` with the empty values left out. */
export function withQuery(
  path: string,
  query?: Record<string, QueryValue>
): string {
  if (!query) {
    return path;
  }
  const params: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    params.push(
      `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`
    );
  }
  return params.length ? `${path}?${params.join('&')}` : path;
}

/** Encode each segment of a dataset-relative file path (keeping the slashes). */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export interface IRequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, QueryValue>;
}

/** Filters of the audit log (`GET datashare/api/audit`). */
export interface IAuditQuery {
  dataset?: string;
  action?: string;
  since?: string;
  limit?: number;
  /** Old callers' paging; `cursor` (the `next` of the page before) is stable while events arrive. */
  offset?: number;
  cursor?: string;
  order?: 'newest' | 'oldest';
}

/** One page of a list (`{<items>: [...], next}`): its rows and the cursor of the next page, `null` on the last. */
export interface IPage<T> {
  items: T[];
  next: string | null;
}

/** Rows per page when a list is read to its end (the server's largest page). */
export const ALL_PAGE = 1000;

/** A page of `GET api/datasets`: newest first; `q` searches the titles, `level` the level set. */
export interface IDatasetQuery {
  q?: string;
  level?: string;
  withdrawn?: boolean;
  limit?: number;
  cursor?: string | null;
}

/** A page of `GET api/requests`, newest first. */
export interface IRequestQuery {
  status?: 'pending' | 'approved' | 'denied';
  dataset?: string;
  limit?: number;
  cursor?: string | null;
}

/** Every row of a paged list, following `next` to the last page. */
export async function everyPage<T>(page: (cursor: string | null) => Promise<IPage<T>>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const got: IPage<T> = await page(cursor);
    out.push(...got.items);
    cursor = got.next;
  } while (cursor);
  return out;
}

export class DataShareClient {
  constructor(serverSettings?: ServerConnection.ISettings) {
    this.serverSettings = serverSettings ?? ServerConnection.makeSettings();
  }

  readonly serverSettings: ServerConnection.ISettings;

  /** The full URL of an API path such as `datasets/ds-1/links`. */
  url(path: string, query?: Record<string, QueryValue>): string {
    return withQuery(
      URLExt.join(this.serverSettings.baseUrl, API_PREFIX, path),
      query
    );
  }

  /**
   * A URL under `<base_url>/datashare/` (landing pages), absolute when given a relative path. Only
   * http(s) ever comes out: in client mode the links come from the datashare service, and a
   * `javascript:` one must never become a link in the panel.
   */
  absolute(pathOrUrl: string): string {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      return pathOrUrl;
    }
    const base = new URL(
      this.serverSettings.baseUrl,
      typeof window !== 'undefined' ? window.location.href : 'http://localhost/'
    );
    const url = new URL(pathOrUrl, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : 'about:blank';
  }

  /** Send a request; resolves to the raw response when it succeeded, throws DataShareError otherwise. */
  async fetch(path: string, options: IRequestOptions = {}): Promise<Response> {
    const init: RequestInit = { method: options.method ?? 'GET' };
    if (options.body !== undefined) {
      init.body = JSON.stringify(options.body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(
        this.url(path, options.query),
        init,
        this.serverSettings
      );
    } catch (reason) {
      throw new NetworkFailure(
        `Could not reach the Jupyter server: ${(reason as Error)?.message ?? reason}`
      );
    }
    if (!response.ok) {
      throw await DataShareError.fromResponse(response);
    }
    return response;
  }

  /** Send a request and parse its JSON answer. */
  async request<T>(path: string, options: IRequestOptions = {}): Promise<T> {
    const response = await this.fetch(path, options);
    const text = await response.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  // -- datasets ------------------------------------------------------------------------------

  /** One page of the owner's datasets. */
  async datasetsPage(query: IDatasetQuery = {}): Promise<IPage<DatasetSummary>> {
    const out = await this.request<{ datasets: DatasetSummary[]; next?: string | null }>('datasets', {
      query: {
        q: query.q?.trim() || undefined,
        level: query.level,
        withdrawn: query.withdrawn ? 1 : undefined,
        limit: query.limit,
        cursor: query.cursor ?? undefined
      }
    });
    return { items: out.datasets, next: out.next ?? null };
  }

  /** Every dataset of the owner, page after page. */
  listDatasets(includeWithdrawn = false): Promise<DatasetSummary[]> {
    return everyPage(cursor => this.datasetsPage({ withdrawn: includeWithdrawn, limit: ALL_PAGE, cursor }));
  }

  getDataset(id: string, version?: number): Promise<DatasetDetail> {
    return this.request<DatasetDetail>(`datasets/${encodeURIComponent(id)}`, {
      query: { version }
    });
  }

  share(body: ShareBody): Promise<ShareResult> {
    return this.request<ShareResult>('datasets', { method: 'POST', body });
  }

  /** Change metadata and access; new external committee members' links come back once. */
  update(id: string, body: UpdateBody): Promise<ShareResult> {
    return this.request<ShareResult>(`datasets/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body
    });
  }

  withdraw(id: string, reason: string): Promise<DatasetDetail> {
    return this.request<DatasetDetail>(`datasets/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      body: { reason }
    });
  }

  publishVersion(id: string): Promise<DatasetDetail> {
    return this.request<DatasetDetail>(
      `datasets/${encodeURIComponent(id)}/versions`,
      { method: 'POST', body: {} }
    );
  }

  /** The owner's download of one file (audited for non-open data). */
  downloadFile(id: string, path: string, version?: number): Promise<Response> {
    return this.fetch(
      `datasets/${encodeURIComponent(id)}/files/${encodePath(path)}`,
      { query: { version } }
    );
  }

  committee(id: string): Promise<CommitteeInfo> {
    return this.request<CommitteeInfo>(
      `datasets/${encodeURIComponent(id)}/committee`
    );
  }

  // -- review links ----------------------------------------------------------------------------

  /** Every review link of a dataset, newest first (a dataset has few: read to the last page). */
  listLinks(id: string): Promise<ReviewLink[]> {
    return everyPage(async cursor => {
      const out = await this.request<{ links: ReviewLink[]; next?: string | null }>(
        `datasets/${encodeURIComponent(id)}/links`,
        { query: { limit: ALL_PAGE, cursor: cursor ?? undefined } }
      );
      return { items: out.links, next: out.next ?? null };
    });
  }

  createLink(id: string, body: LinkCreateBody): Promise<NewLink> {
    return this.request<NewLink>(`datasets/${encodeURIComponent(id)}/links`, {
      method: 'POST',
      body
    });
  }

  revokeLink(linkId: string): Promise<ReviewLink> {
    return this.request<ReviewLink>(`links/${encodeURIComponent(linkId)}`, {
      method: 'DELETE'
    });
  }

  // -- access requests, decisions and grants ------------------------------------------------------

  /** One page of the access requests the caller may read, newest first. */
  async requestsPage(query: IRequestQuery = {}): Promise<IPage<AccessRequest>> {
    const out = await this.request<{ requests: AccessRequest[]; next?: string | null }>('requests', {
      query: {
        status: query.status,
        dataset: query.dataset,
        limit: query.limit,
        cursor: query.cursor ?? undefined
      }
    });
    return { items: out.requests, next: out.next ?? null };
  }

  /** Every access request the caller may read, page after page. */
  listRequests(status?: 'pending' | 'approved' | 'denied'): Promise<AccessRequest[]> {
    return everyPage(cursor => this.requestsPage({ status, limit: ALL_PAGE, cursor }));
  }

  decide(
    requestId: string,
    decision: Decision,
    reason?: string
  ): Promise<AccessRequest> {
    const body: { decision: Decision; reason?: string } = { decision };
    if (reason && reason.trim()) {
      body.reason = reason.trim();
    }
    return this.request<AccessRequest>(
      `requests/${encodeURIComponent(requestId)}/decision`,
      { method: 'POST', body }
    );
  }

  /** Approve or deny several requests; each gets its own recorded decision. */
  async decideMany(
    requestIds: string[],
    decision: Decision,
    reason?: string
  ): Promise<BulkDecisionResult[]> {
    const out = await this.request<{ results: BulkDecisionResult[] }>(
      'requests/decisions',
      { method: 'POST', body: bulkDecisionBody(requestIds, decision, reason) }
    );
    return out.results;
  }

  /** Erase a requester's name, e-mail, institution, ORCID and purpose (owner only). */
  erasePersonalData(requestId: string): Promise<AccessRequest> {
    return this.request<AccessRequest>(
      `requests/${encodeURIComponent(requestId)}/personal-data`,
      { method: 'DELETE' }
    );
  }

  /** Every grant of a dataset, newest first, page after page. */
  listGrants(id: string): Promise<Grant[]> {
    return everyPage(async cursor => {
      const out = await this.request<{ grants: Grant[]; next?: string | null }>(
        `datasets/${encodeURIComponent(id)}/grants`,
        { query: { limit: ALL_PAGE, cursor: cursor ?? undefined } }
      );
      return { items: out.grants, next: out.next ?? null };
    });
  }

  revokeGrant(grantId: string, reason: string): Promise<Grant> {
    return this.request<Grant>(`grants/${encodeURIComponent(grantId)}`, {
      method: 'DELETE',
      body: { reason }
    });
  }

  /** How to cite a dataset, and the statements a manuscript needs. */
  citation(id: string): Promise<Citation> {
    return this.request<Citation>(
      `datasets/${encodeURIComponent(id)}/citation`
    );
  }

  // -- audit log -----------------------------------------------------------------------------

  async audit(query: IAuditQuery = {}): Promise<AuditEvent[]> {
    const out = await this.request<{ events: AuditEvent[] }>('audit', {
      query: { ...query }
    });
    return out.events;
  }

  /** A page of the audit log, newest first unless `order` says otherwise; `next` goes on from its last event. */
  async auditPage(query: IAuditQuery = {}): Promise<IPage<AuditEvent>> {
    const out = await this.request<{ events: AuditEvent[]; next?: string | null }>('audit', {
      query: { ...query }
    });
    return { items: out.events, next: out.next ?? null };
  }

  /** From where the last verification ended (the report says where), or with `full` from event #1. */
  verifyAudit(full = false): Promise<VerifyReport> {
    return this.request<VerifyReport>('audit/verify', { query: { full: full ? 1 : undefined } });
  }

  /** Sign the log's current state now: the note to keep where the server cannot change it. */
  signCheckpoint(): Promise<SignedCheckpoint> {
    return this.request<SignedCheckpoint>('audit/checkpoint', { method: 'POST', body: {} });
  }

  /** The whole log as CSV or JSON Lines (fetched with the token, to be saved as a file). */
  async exportAudit(format: 'csv' | 'jsonl'): Promise<Blob> {
    const response = await this.fetch('audit', { query: { format } });
    return response.blob();
  }
}

/**
 * The body of `POST datashare/api/requests/decisions`: each id once, in the order given; the
 * reason trimmed and left out when blank (the server then refuses a denial, naming `reason`).
 */
export function bulkDecisionBody(
  requestIds: string[],
  decision: Decision,
  reason?: string
): BulkDecisionBody {
  const body: BulkDecisionBody = {
    requests: [...new Set(requestIds)],
    decision
  };
  if (reason && reason.trim()) {
    body.reason = reason.trim();
  }
  return body;
}

/**
 * Map a server field name onto the fields a form shows.
 *
 * The most specific known field wins: with `committee.members[0]` known, the server's
 * `committee.members[0].email` lands there; `use_conditions[2]` lands on `use_conditions`.
 * Returns `null` when no shown field matches (the message then goes to the form's banner).
 */
export function matchField(
  serverField: string | null | undefined,
  known: Iterable<string>
): string | null {
  if (!serverField) {
    return null;
  }
  let best: string | null = null;
  for (const key of known) {
    const covers =
      key === serverField ||
      serverField.startsWith(`${key}.`) ||
      serverField.startsWith(`${key}[`);
    if (covers && (best === null || key.length > best.length)) {
      best = key;
    }
  }
  return best;
}

/** Where a form shows an error: the field's own message, or the banner (`''`). */
export interface IFieldError {
  field: string;
  message: string;
}

/**
 * Turn any thrown value into what a form shows: next to a known field when the server named
 * one (after `translate`, which maps the body's list indices back to the form's rows), else
 * in the form's banner (`field: ''`).
 */
export function errorForForm(
  reason: unknown,
  known: Iterable<string>,
  translate: (serverField: string | null) => string | null = f => f
): IFieldError {
  if (reason instanceof DataShareError) {
    const named = translate(reason.field);
    const field = matchField(named, known);
    if (field) {
      return {
        field,
        message: field === named ? reason.fieldMessage : reason.message
      };
    }
    return { field: '', message: reason.message };
  }
  return {
    field: '',
    message: (reason as Error)?.message ?? String(reason)
  };
}
