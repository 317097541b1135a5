/**
 * What the Data sharing panel shows: the owner's datasets, the committee inbox, and which
 * dataset (and which of its sections) is open. Commands drive the panel through this model.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { DataShareClient, DataShareError } from './api';
import type { IDefaultCreator } from './creator';
import { PagedList } from './paged';
import type { AccessRequest, DatasetSummary } from './types';

export type SectionName =
  | 'edit'
  | 'access'
  | 'cite'
  | 'files'
  | 'versions'
  | 'links'
  | 'requests'
  | 'grants'
  | 'committee'
  | 'events'
  | 'withdraw';

export interface IPreferences {
  defaultLinkDays: number;
  anonymousLinks: boolean;
  defaultLicense: string;
  defaultLevel: string;
  refreshSeconds: number;
  auditPageSize: number;
  defaultCreator: IDefaultCreator;
}

export const DEFAULT_PREFERENCES: IPreferences = {
  defaultLinkDays: 30,
  anonymousLinks: false,
  defaultLicense: 'CC-BY-4.0',
  defaultLevel: 'open',
  refreshSeconds: 60,
  auditPageSize: 100,
  defaultCreator: {}
};

/** Where the panel is: the list, or one dataset with a section brought forward. */
export interface IFocus {
  id: string | null;
  section: SectionName | null;
  /** Changes with every request to focus, so asking twice for the same section works. */
  nonce: number;
}

/** Rows of a list the panel asks for at a time ("Load more" asks for the next as many). */
export const PAGE_SIZE = 50;

export class DataShareModel {
  constructor(readonly client: DataShareClient) {
    this._datasetPages = new PagedList<DatasetSummary>(
      (limit, cursor) => client.datasetsPage({ q: this._search || undefined, limit, cursor }),
      PAGE_SIZE
    );
    this._requestPages = new PagedList<AccessRequest>(
      (limit, cursor) => client.requestsPage({ limit, cursor }),
      PAGE_SIZE
    );
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted when data changed on the server (share, link, decision): open views reload. */
  get dataChanged(): ISignal<this, void> {
    return this._dataChanged;
  }

  /** The datasets loaded so far (newest first; only those matching the search, if any). */
  get datasets(): DatasetSummary[] {
    return this._datasetPages.items;
  }

  /** Whether older datasets wait behind "Load more". */
  get hasMoreDatasets(): boolean {
    return this._datasetPages.hasMore;
  }

  get loadingMore(): boolean {
    return this._datasetPages.loadingMore || this._requestPages.loadingMore;
  }

  /** What the dataset list is searched for (words of the title; '' for all). */
  get search(): string {
    return this._search;
  }

  get requests(): AccessRequest[] {
    return this._requestPages.items;
  }

  get hasMoreRequests(): boolean {
    return this._requestPages.hasMore;
  }

  get pendingRequests(): AccessRequest[] {
    return this.requests.filter(r => r.status === 'pending');
  }

  get loading(): boolean {
    return this._loading;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /** False for a signed-in colleague who may not act as the owner (a committee member). */
  get isOwner(): boolean {
    return this._owner;
  }

  get error(): string | null {
    return this._error;
  }

  get focus(): IFocus {
    return this._focus;
  }

  get selected(): DatasetSummary | null {
    return this.datasets.find(d => d.id === this._focus.id) ?? null;
  }

  get preferences(): IPreferences {
    return this._preferences;
  }

  set preferences(value: IPreferences) {
    this._preferences = value;
    this._changed.emit();
  }

  /** Reload the datasets and the committee inbox. */
  async refresh(): Promise<void> {
    if (this._pending) {
      return this._pending;
    }
    this._loading = true;
    this._changed.emit();
    this._pending = (async () => {
      try {
        const [owner] = await Promise.all([
          this._datasetPages.reload().then(
            () => true,
            (reason: unknown) => {
              // A colleague on a committee, not the owner: they still decide requests here.
              if (reason instanceof DataShareError && reason.status === 403) {
                this._datasetPages.clear();
                return false;
              }
              throw reason;
            }
          ),
          this._requestPages.reload().catch((reason: unknown) => {
            // Not everyone may read the committee inbox; the datasets still show.
            if (reason instanceof DataShareError && reason.status === 403) {
              this._requestPages.clear();
              return false;
            }
            throw reason;
          })
        ]);
        this._owner = owner;
        this._error = null;
        this._loaded = true;
      } catch (reason) {
        this._error = (reason as Error).message ?? String(reason);
      } finally {
        this._loading = false;
        this._pending = null;
        this._changed.emit();
      }
    })();
    return this._pending;
  }

  /** Search the dataset list by title (on the server), from its first page. */
  async setSearch(text: string): Promise<void> {
    if (text === this._search) {
      return;
    }
    this._search = text;
    this._changed.emit();
    try {
      if (await this._datasetPages.reload(true)) {
        this._error = null;
      }
    } catch (reason) {
      this._error = (reason as Error).message ?? String(reason);
    } finally {
      this._changed.emit();
    }
  }

  /** The next page of the datasets (or of the requests with `'requests'`). */
  async loadMore(list: 'datasets' | 'requests' = 'datasets'): Promise<void> {
    const pages = list === 'datasets' ? this._datasetPages : this._requestPages;
    const done = pages.more();
    this._changed.emit(); // the button shows it is busy
    try {
      await done;
    } catch (reason) {
      this._error = (reason as Error).message ?? String(reason);
    } finally {
      this._changed.emit();
    }
  }

  /** Something changed on the server: reload the lists and tell open views. */
  async invalidate(): Promise<void> {
    this._dataChanged.emit();
    await this.refresh();
  }

  /** Open a dataset (or the list with `null`), optionally bringing a section forward. */
  open(id: string | null, section: SectionName | null = null): void {
    this._focus = { id, section, nonce: this._focus.nonce + 1 };
    this._changed.emit();
  }

  private _datasetPages: PagedList<DatasetSummary>;
  private _requestPages: PagedList<AccessRequest>;
  private _search = '';
  private _loading = false;
  private _loaded = false;
  private _owner = true;
  private _error: string | null = null;
  private _pending: Promise<void> | null = null;
  private _focus: IFocus = { id: null, section: null, nonce: 0 };
  private _preferences: IPreferences = { ...DEFAULT_PREFERENCES };
  private _changed = new Signal<this, void>(this);
  private _dataChanged = new Signal<this, void>(this);
}
