/**
 * The audit view reads the log a page at a time by cursor: events recorded while it is open
 * neither repeat nor push an event out of "Load more" (an offset did both), and a verification
 * from an earlier one says where it started and offers a check from event #1.
 */
import { expect, test } from '@jupyterlab/galata';

test.use({ mockUser: false });

test('the audit view loads more by cursor while events arrive, and verifies from the last check', async ({
  page,
  tmpPath,
  baseURL
}) => {
  await page.contents.uploadContent('n\n1\n', 'text', `${tmpPath}/audited.csv`);
  const shared = await page.request.post(`${baseURL}/datashare/api/datasets`, {
    data: { path: `${tmpPath}/audited.csv`, title: 'Audited survey' }
  });
  expect(shared.status(), await shared.text()).toBe(201);
  const datasetId: string = (await shared.json()).id;
  const newLink = async () =>
    expect((await page.request.post(`${baseURL}/datashare/api/datasets/${datasetId}/links`, { data: {} })).status()).toBe(201);
  for (let i = 0; i < 105; i++) {
    await newLink(); // one link.created event each: more than the view's page of 100
  }

  await page.keyboard.press('Control+Shift+C');
  await page.locator('#modal-command-palette input').fill('Open Audit Log');
  await expect(page.locator('#modal-command-palette .lm-CommandPalette-item').first()).toContainText('Open Audit Log');
  await page.keyboard.press('Enter');
  const audit = page.locator('.jp-DataShare-audit');
  const rows = audit.getByTestId('datashare-audit-table').locator('tbody tr');
  await expect(rows).toHaveCount(100);
  const seqs = () => rows.evaluateAll(els => els.map(e => Number(e.querySelector('td')?.textContent)));
  const first = await seqs();

  for (let i = 0; i < 3; i++) {
    await newLink(); // recorded after the first page was read
  }
  await audit.getByRole('button', { name: 'Load more', exact: true }).click();
  await expect(rows).not.toHaveCount(100);
  const shown = await seqs();
  expect(shown.slice(0, 100)).toEqual(first);
  expect(new Set(shown).size).toBe(shown.length); // nothing twice
  expect(shown[100]).toBe(first[99] - 1); // nothing skipped at the cut
  for (let i = 1; i < shown.length; i++) {
    expect(shown[i]).toBeLessThan(shown[i - 1]);
  }

  // Verified once (from #1 or from an earlier check), then again: from where that one ended.
  const verify = audit.getByTestId('datashare-verify');
  const verdict = audit.getByTestId('datashare-verify-result');
  await verify.click();
  await expect(verdict).toHaveAttribute('data-ok', 'true');
  await newLink();
  await verify.click();
  await expect(verdict).toContainText(/Checked events #\d+\.\.#\d+ from the verification of/);
  await audit.getByTestId('datashare-verify-full').click();
  await expect(verdict).toHaveAttribute('data-ok', 'true');
  await expect(audit.getByTestId('datashare-verify-full')).toBeHidden(); // checked from #1
});
