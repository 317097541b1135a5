/**
 * The panel's dataset list reads the server's pages: 50 at a time with "Load more", and a search
 * box that asks the server for the titles that match (from their first page).
 */
import { expect, test } from '@jupyterlab/galata';

test.use({ mockUser: false });

test('the dataset list loads more page by page and searches titles on the server', async ({
  page,
  tmpPath,
  baseURL
}) => {
  const count = 56; // more than one page of the panel's 50
  for (let i = 0; i < count; i++) {
    await page.contents.uploadContent(`n\n${i}\n`, 'text', `${tmpPath}/wave${i}.csv`);
    const shared = await page.request.post(`${baseURL}/datashare/api/datasets`, {
      data: { path: `${tmpPath}/wave${i}.csv`, title: `Paged survey wave ${i}` }
    });
    expect(shared.status()).toBe(201);
  }
  await page.sidebar.openTab('jp-datashare-panel');
  const panel = page.locator('#jp-datashare-panel');
  await panel.getByRole('button', { name: 'Refresh the datasets' }).click();
  const list = panel.getByRole('list', { name: 'My datasets' });
  const items = list.locator('.jp-DataShare-datasetItem');
  // Newest first, one page: the last one shared on top.
  await expect(items.first()).toContainText(`Paged survey wave ${count - 1}`);
  await expect(items).toHaveCount(50);
  const total = await page.request.get(`${baseURL}/datashare/api/datasets?limit=1000`);
  const all: number = (await total.json()).datasets.length;
  expect(all).toBeGreaterThanOrEqual(count);

  const more = panel.getByRole('button', { name: 'Load more datasets' });
  while (await more.isVisible()) {
    const before = await items.count();
    await more.click();
    await expect(items).not.toHaveCount(before);
  }
  await expect(items).toHaveCount(all); // every dataset once
  const ids = await list.locator('[data-dataset]').evaluateAll(els => els.map(e => e.getAttribute('data-dataset')));
  expect(new Set(ids).size).toBe(all);

  // The search goes to the server: titles with "wave 1" (1, 10-19), whatever was loaded.
  const search = panel.getByRole('searchbox', { name: 'Search my datasets by title' });
  await search.fill('WAVE 1');
  await expect(items).toHaveCount(11);
  await expect(items.first()).toContainText('Paged survey wave 19');
  await expect(more).toBeHidden();
  await search.fill('no such title at all');
  await expect(panel.getByText('No dataset has “no such title at all” in its title.')).toBeVisible();
  await search.fill('');
  await expect(items).toHaveCount(50);
  await expect(more).toBeVisible();
});
