/**
 * Paged lists: the client follows `next` to the last page when it needs everything, and the
 * panel's "Load more" appends the next page, searches from the first, and drops stale answers.
 */
import { ServerConnection } from '@jupyterlab/services';

import { DataShareClient, IPage } from '../api';
import { PagedList } from '../paged';

const json = (body: unknown) =>
  new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });

it('reads every page of the datasets by following the cursor', async () => {
  const urls: string[] = [];
  const pages: Record<string, unknown> = {
    '': { datasets: [{ id: 'ds-3' }, { id: 'ds-2' }], next: 'c1' },
    c1: { datasets: [{ id: 'ds-1' }], next: null }
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    fetch: (input: RequestInfo) => {
      const url = new URL((input as Request).url);
      urls.push(url.search);
      return Promise.resolve(json(pages[url.searchParams.get('cursor') ?? '']));
    }
  });
  const all = await new DataShareClient(settings).listDatasets();
  expect(all.map(d => d.id)).toEqual(['ds-3', 'ds-2', 'ds-1']);
  expect(urls.map(u => u.replace(/&\d{12,}$/, ''))).toEqual(['?limit=1000', '?limit=1000&cursor=c1']);
});

it('sends the search, the level and the cursor of a page', async () => {
  let seen = '';
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/',
    fetch: (input: RequestInfo) => {
      seen = new URL((input as Request).url).search.replace(/&\d{12,}$/, '');
      return Promise.resolve(json({ datasets: [], next: null }));
    }
  });
  const page = await new DataShareClient(settings).datasetsPage({ q: ' soil ', level: 'open', limit: 50, cursor: 'abc' });
  expect(page).toEqual({ items: [], next: null });
  expect(seen).toBe('?q=soil&level=open&limit=50&cursor=abc');
});

type Row = { id: string };

function server(rows: Row[]) {
  const calls: Array<[number, string | null]> = [];
  const fetchPage = async (limit: number, cursor: string | null): Promise<IPage<Row>> => {
    calls.push([limit, cursor]);
    const start = cursor === null ? 0 : rows.findIndex(r => r.id === cursor) + 1;
    const items = rows.slice(start, start + limit);
    const more = start + limit < rows.length;
    return { items, next: more ? items[items.length - 1].id : null };
  };
  return { calls, fetchPage };
}

it('loads more page by page and a refresh keeps what was shown', async () => {
  const rows = Array.from({ length: 7 }, (_, i) => ({ id: `r${i}` }));
  const { calls, fetchPage } = server(rows);
  const list = new PagedList<Row>(fetchPage, 3);
  await list.reload();
  expect(list.items.map(r => r.id)).toEqual(['r0', 'r1', 'r2']);
  expect(list.hasMore).toBe(true);
  await list.more();
  await list.more();
  expect(list.items.map(r => r.id)).toEqual(rows.map(r => r.id));
  expect(list.hasMore).toBe(false);
  await list.reload(); // a refresh: as many rows as were shown, in one request
  expect(calls[calls.length - 1]).toEqual([7, null]);
  expect(list.items).toHaveLength(7);
  await list.reload(true); // a new search: one page again
  expect(list.items).toHaveLength(3);
});

it('drops the answer of a load that a newer one overtook', async () => {
  let release: (page: IPage<Row>) => void = () => undefined;
  const slow = new Promise<IPage<Row>>(resolve => (release = resolve));
  let first = true;
  const list = new PagedList<Row>(async () => {
    if (first) {
      first = false;
      return slow; // the old search, answering late
    }
    return { items: [{ id: 'new' }], next: null };
  }, 3);
  const old = list.reload(true);
  await list.reload(true);
  release({ items: [{ id: 'old' }], next: 'x' });
  expect(await old).toBe(false);
  expect(list.items.map(r => r.id)).toEqual(['new']);
  expect(list.hasMore).toBe(false);
});
