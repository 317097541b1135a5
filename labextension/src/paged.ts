/**
 * A list the panel reads a page at a time ("Load more"), from the server's keyset pages: the rows
 * shown so far and the cursor of the next page. A reload (a refresh, a new search) starts again
 * from the first page; answers to an older load are dropped, so a slow page of the previous
 * search can never land in the new one.
 */
import type { IPage } from './api';

/** Rows a reload may ask for at once (the server's largest page). */
const MAX_PAGE = 1000;

export class PagedList<T extends { id: string }> {
  constructor(
    private readonly fetchPage: (limit: number, cursor: string | null) => Promise<IPage<T>>,
    readonly pageSize = 50
  ) {
    this._wanted = pageSize;
  }

  get items(): T[] {
    return this._items;
  }

  get hasMore(): boolean {
    return this._next !== null;
  }

  get loadingMore(): boolean {
    return this._loadingMore;
  }

  /**
   * The first page again. A refresh keeps as many rows as "Load more" had shown (up to 1,000);
   * `fromStart` (a new search) goes back to one page. False when a newer load overtook this one.
   */
  async reload(fromStart = false): Promise<boolean> {
    if (fromStart) {
      this._wanted = this.pageSize;
    }
    const generation = ++this._generation;
    const page = await this.fetchPage(Math.min(MAX_PAGE, Math.max(this.pageSize, this._wanted)), null);
    if (generation !== this._generation) {
      return false;
    }
    this._items = page.items;
    this._next = page.next;
    this._loaded = true;
    return true;
  }

  /** The next page, appended (rows already shown are not repeated). */
  async more(): Promise<void> {
    if (this._next === null || this._loadingMore) {
      return;
    }
    const generation = this._generation;
    this._loadingMore = true;
    try {
      const page = await this.fetchPage(this.pageSize, this._next);
      if (generation !== this._generation) {
        return;
      }
      const shown = new Set(this._items.map(x => x.id));
      this._items = [...this._items, ...page.items.filter(x => !shown.has(x.id))];
      this._next = page.next;
      this._wanted = this._items.length;
    } finally {
      this._loadingMore = false;
    }
  }

  /** Forget the rows (e.g. the caller may not read this list). */
  clear(): void {
    this._generation++;
    this._items = [];
    this._next = null;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  private _items: T[] = [];
  private _next: string | null = null;
  private _loadingMore = false;
  private _loaded = false;
  private _wanted: number;
  private _generation = 0;
}
