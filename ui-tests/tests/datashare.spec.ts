/**
 * The Data sharing panel in a real JupyterLab, driven through Debian's Chromium.
 *
 * The lab page authenticates with the server's token (see playwright.config.js); the reviewer
 * and the requester use fresh browser contexts that have no token at all.
 */
import { expect, galata, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import type { Browser, Locator } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

const SCREENSHOTS = path.join(__dirname, '..', 'test-results', 'screenshots');
const CSV = 'site,depth_m,temp_c\nA,1.5,11.2\nB,3.0,9.8\n';

// The real Jupyter identity (see jupyter_server_test_config.py), not galata's mock: the share
// form prefills the creator from it.
// The link form's lifetime comes from the extension's settings (schema/plugin.json).
test.use({
  mockUser: false,
  mockSettings: { ...galata.DEFAULT_SETTINGS, 'jupyter-datashare:plugin': { defaultLinkDays: 14 } }
});

/** Save a screenshot under test-results/screenshots (kept after the run) and attach it. */
async function shoot(
  target: IJupyterLabPageFixture | Locator,
  name: string,
  info: ReturnType<typeof test.info>
): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await target.screenshot({ path: file });
  await info.attach(name, { path: file, contentType: 'image/png' });
  return file;
}

/** A browser context with no Jupyter token or cookie: a reviewer's or requester's browser. */
async function stranger(browser: Browser) {
  // Playwright applies the config's `use` options to browser.newContext() too: drop the token.
  return browser.newContext({ acceptDownloads: true, extraHTTPHeaders: {} });
}

/** Every visible control in `scope` has an accessible name (label, aria-label or its text). */
async function expectLabelled(scope: Locator): Promise<void> {
  const unnamed = await scope.evaluate(root => {
    const out: string[] = [];
    for (const el of Array.from(root.querySelectorAll('input, select, textarea, button'))) {
      const control = el as HTMLInputElement;
      if (control.type === 'hidden' || control.closest('[hidden]')) {
        continue;
      }
      const named =
        control.getAttribute('aria-label') ||
        control.getAttribute('aria-labelledby') ||
        (control.labels && control.labels.length > 0) ||
        (control.tagName === 'BUTTON' && control.textContent?.trim());
      if (!named) {
        out.push(control.outerHTML.slice(0, 160));
      }
    }
    return out;
  });
  expect(unnamed).toEqual([]);
}

/** Run a command through the command palette, with the keyboard only. */
async function fromPalette(page: IJupyterLabPageFixture, label: string): Promise<void> {
  await page.keyboard.press('Control+Shift+C');
  const search = page.locator('#modal-command-palette input');
  await expect(search).toBeFocused();
  await search.fill(label);
  await expect(page.locator('#modal-command-palette .lm-CommandPalette-item').first()).toContainText(label);
  await page.keyboard.press('Enter');
}

async function openSidebar(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab('jp-datashare-panel');
  const panel = page.locator('#jp-datashare-panel');
  await expect(panel).toBeVisible();
  return panel;
}

async function shareThroughContextMenu(
  page: IJupyterLabPageFixture,
  tmpPath: string,
  name: string
): Promise<Locator> {
  await page.filebrowser.refresh();
  const item = page.locator('.jp-DirListing-item', { hasText: name });
  await item.click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Share as dataset…' }).click();
  const form = page.locator('.jp-DataShare-form');
  await expect(form).toBeVisible();
  await expect(form.locator('.jp-DataShare-formPath code')).toHaveText(`${tmpPath}/${name}`);
  return form;
}

test.describe('Data sharing panel', () => {
  test('share a file, review it through a link, revoke the link, audit it all', async ({
    page,
    tmpPath,
    browser,
    baseURL
  }) => {
    const info = test.info();
    await page.contents.uploadContent(CSV, 'text', `${tmpPath}/measurements.csv`);

    // -- share through the file browser's context menu --------------------------------------
    const form = await shareThroughContextMenu(page, tmpPath, 'measurements.csv');
    // Prefilled from the path and the Jupyter identity.
    await expect(form.getByLabel('Title', { exact: true })).toHaveValue('measurements');
    await expect(form.getByLabel('Name', { exact: true }).first()).toHaveValue('Ada Lovelace');

    // A server error lands next to the field it names.
    await form.getByLabel('Title', { exact: true }).fill('');
    await form.getByRole('button', { name: 'Share', exact: true }).click();
    const titleError = form.locator('.jp-DataShare-fieldError');
    await expect(titleError).toHaveText('must not be empty');
    await expect(form.getByLabel('Title', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await expect(form.getByLabel('Title', { exact: true })).toBeFocused();

    await form.getByLabel('Title', { exact: true }).fill('Field measurements 2026');
    await form.getByLabel('Description', { exact: true }).fill('Soil temperature by depth at two sites.');
    await form.getByLabel('ORCID iD').fill('0000-0002-1825-0097');
    await form.getByRole('radio', { name: /CC0 1\.0/ }).check();
    await form.getByRole('radio', { name: /Reviewer-only/ }).check();
    await expectLabelled(form);
    await shoot(page, 'share-form', info);
    await form.getByRole('button', { name: 'Share', exact: true }).click();

    const done = page.getByTestId('datashare-share-done');
    await expect(done).toBeVisible();
    await expect(done.getByTestId('datashare-share-summary')).toHaveText(`1 file, ${CSV.length} B`);
    const datasetId = (await done.locator('h2').innerText()).replace('Shared as ', '').trim();
    expect(datasetId).toMatch(/^ds-/);
    await done.getByRole('button', { name: 'Open in Data sharing' }).click();

    // -- the dataset in the sidebar; a review link ---------------------------------------------
    const panel = page.locator('#jp-datashare-panel');
    await expect(panel.locator('.jp-DataShare-datasetTitle')).toHaveText('Field measurements 2026');
    await expect(panel.locator('.jp-DataShare-badge[data-level="reviewer-only"]').first()).toBeVisible();

    await panel.getByRole('button', { name: /^Files/ }).click();
    await expect(panel.locator('.jp-DataShare-filePath')).toHaveText('measurements.csv');
    await expect(panel.getByRole('button', { name: 'Copy the SHA-256 of measurements.csv' })).toBeVisible();

    await panel.getByRole('button', { name: /^Review links/ }).click();
    await panel.getByLabel('Label').fill('Reviewer 1');
    await expect(panel.getByLabel('Expires in (days)')).toHaveValue('14'); // from the settings
    await panel.getByLabel('Expires in (days)').fill('7');
    await panel.getByTestId('datashare-create-link').click();
    const urlBox = panel.getByTestId('datashare-new-link-url');
    await expect(urlBox).toBeVisible();
    const reviewUrl = await urlBox.inputValue();
    expect(reviewUrl).toMatch(/\/datashare\/r\/dsr_/);
    await expect(panel.getByRole('button', { name: /^Copy Review link/ })).toBeVisible();
    await expectLabelled(panel);
    await shoot(panel, 'panel-dataset-review-link', info);

    // -- the reviewer: a fresh browser without the token ---------------------------------------
    const reviewer = await stranger(browser);
    try {
      // Really a stranger: the owner's API refuses it.
      const api = await reviewer.request.get(`${baseURL}/datashare/api/datasets`);
      expect(api.status()).toBe(403);

      const reviewPage = await reviewer.newPage();
      const landing = await reviewPage.goto(reviewUrl);
      expect(landing?.status()).toBe(200);
      await expect(reviewPage.locator('body')).toContainText('Field measurements 2026');
      const [download] = await Promise.all([
        reviewPage.waitForEvent('download'),
        reviewPage.getByRole('link', { name: 'measurements.csv' }).click()
      ]);
      expect(download.suggestedFilename()).toBe('measurements.csv');
      expect(fs.readFileSync(await download.path(), 'utf-8')).toBe(CSV);
      await reviewPage.close();
    } finally {
      await reviewer.close();
    }

    // -- the owner sees the use and revokes the link -------------------------------------------
    await panel.getByRole('button', { name: 'Reload this dataset' }).click();
    const linkRow = panel.locator('.jp-DataShare-link[data-state="active"]');
    await expect(linkRow.getByTestId('datashare-link-uses')).toHaveText(/^[1-9]\d* times?$/);
    await linkRow.getByRole('button', { name: 'Revoke the review link Reviewer 1' }).click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toContainText('Revoke this review link?');
    await dialog.getByRole('button', { name: 'Revoke' }).click();
    await expect(panel.locator('.jp-DataShare-link[data-state="active"]')).toHaveCount(0);
    await expect(panel.getByText('No active review links.')).toBeVisible();

    // -- the revoked link is a plain 404, page and file alike ----------------------------------
    const late = await stranger(browser);
    try {
      const gone = await late.newPage();
      const answer = await gone.goto(reviewUrl);
      expect(answer?.status()).toBe(404);
      const file = await late.request.get(`${reviewUrl}/files/measurements.csv`);
      expect(file.status()).toBe(404);
    } finally {
      await late.close();
    }

    // -- the dataset's own events, then the audit view ---------------------------------------------
    await panel.getByRole('button', { name: 'Reload this dataset' }).click();
    await panel.getByRole('button', { name: /^Audit events/ }).click();
    const events = panel.locator('.jp-DataShare-events');
    for (const action of ['dataset.shared', 'link.created', 'file.downloaded', 'link.revoked']) {
      await expect(events.locator(`[data-action="${action}"]`).first()).toBeVisible();
    }
    await panel.getByRole('button', { name: 'Open in the audit log' }).click();

    const audit = page.locator('.jp-DataShare-audit');
    await expect(audit).toBeVisible();
    const table = audit.getByTestId('datashare-audit-table');
    for (const action of [
      'dataset.shared',
      'link.created',
      'dataset.viewed',
      'file.downloaded',
      'link.revoked',
      'link.rejected'
    ]) {
      await expect(table.locator(`tr[data-action="${action}"]`).first()).toBeVisible();
    }
    // Filtered by this dataset (the panel opened it so); then by action.
    await expect(audit.getByLabel('Dataset', { exact: true })).toHaveValue(datasetId);
    await audit.getByLabel('Action', { exact: true }).selectOption('file.downloaded');
    await expect(table.locator('tbody tr')).toHaveCount(1);
    await expect(table.locator('tbody tr').first()).toHaveAttribute('data-action', 'file.downloaded');
    await audit.getByLabel('Action', { exact: true }).selectOption('');

    // The chart of accesses shows this dataset.
    await expect(audit.getByTestId('datashare-chart')).toBeVisible();
    await expect(audit.locator('.jp-DataShare-legend')).toContainText('Field measurements 2026');

    await expectLabelled(audit);
    // Verify from the command palette, keyboard only.
    await fromPalette(page, 'Verify Audit Log');
    const verdict = audit.getByTestId('datashare-verify-result');
    await expect(verdict).toHaveAttribute('data-ok', 'true');
    await expect(verdict).toContainText('The log verifies');

    // Export through the token-carrying request, saved as a file: still filtered by this
    // dataset, the export saves the events the view shows.
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      audit.getByRole('button', { name: 'Export the events that match the filters as CSV' }).click()
    ]);
    expect(csv.suggestedFilename()).toBe('datashare-audit.csv');
    const exported = fs.readFileSync(await csv.path(), 'utf-8');
    expect(exported.split('\n')[0]).toContain('seq,ts,actor,action');
    expect(exported).toContain('link.revoked');

    await shoot(audit, 'audit-view', info);
    // The README's picture: the panel next to the audit log.
    await page.sidebar.openTab('jp-datashare-panel');
    await panel.getByRole('button', { name: /^Files/ }).click(); // fold it back
    await panel.evaluate(el => el.scrollTo(0, 0));
    const picture = await shoot(page, 'jupyterlab-panel-and-audit', info);
    if (process.env.DATASHARE_UPDATE_DOCS) {
      fs.copyFileSync(picture, path.join(__dirname, '..', '..', 'docs', 'panel.png'));
    }
  });

  test('palette: share the selected file, publish a new version, withdraw', async ({ page, tmpPath }) => {
    await page.contents.uploadContent('v1\n', 'text', `${tmpPath}/notes.txt`);
    await page.filebrowser.refresh();
    await page.locator('.jp-DirListing-item', { hasText: 'notes.txt' }).click();
    await fromPalette(page, 'Share as dataset…');
    const form = page.locator('.jp-DataShare-form');
    await expect(form.locator('.jp-DataShare-formPath code')).toHaveText(`${tmpPath}/notes.txt`);
    await form.getByLabel('Title', { exact: true }).fill('Lab notes');
    await form.getByRole('button', { name: 'Share', exact: true }).click();
    await expect(page.getByTestId('datashare-share-summary')).toHaveText('1 file, 3 B');

    // Edit the file, then freeze it again as version 2 (the dataset is chosen in a dialog).
    await page.contents.uploadContent('v2, longer\n', 'text', `${tmpPath}/notes.txt`);
    await fromPalette(page, 'Publish New Dataset Version…');
    const chooser = page.locator('.jp-Dialog');
    const choice = (await chooser.locator('option', { hasText: 'Lab notes' }).textContent()) ?? '';
    await chooser.locator('select').selectOption({ label: choice });
    await chooser.getByRole('button', { name: 'OK' }).click();
    await expect(page.locator('.jp-Dialog')).toContainText('will be frozen as version 2');
    await page.locator('.jp-Dialog').getByRole('button', { name: 'Publish' }).click();

    const panel = await openSidebar(page);
    const item = panel.getByRole('button', { name: 'Open dataset Lab notes' });
    await expect(item).toContainText('v2 · 1 file · 11 B');
    await item.click();
    await panel.getByRole('button', { name: /^Versions/ }).click();
    await expect(panel.locator('[data-section="versions"] li')).toHaveCount(2);

    // Withdraw: a reason, then a confirmation.
    await panel.getByRole('button', { name: /^Withdraw/ }).first().click();
    await panel.getByLabel('Reason (shown on the tombstone page)').fill('Superseded by the published dataset');
    await panel.getByRole('button', { name: 'Withdraw dataset…' }).click();
    const confirm = page.locator('.jp-Dialog');
    await expect(confirm).toContainText('cannot be undone');
    await confirm.getByRole('button', { name: 'Withdraw' }).click();
    await expect(panel.getByRole('button', { name: 'Open dataset Lab notes' })).toHaveCount(0);

    const audit = (await (await page.request.get('/datashare/api/audit?action=dataset.withdrawn')).json()).events;
    expect(audit.some((e: { reason: string }) => e.reason === 'Superseded by the published dataset')).toBe(true);
  });

  test('restricted data: committee links, a request decided in the panel, a grant revoked', async ({
    page,
    tmpPath,
    browser,
    baseURL,
    request
  }) => {
    const info = test.info();
    // The Jupyter identity the server sees for this session: the owner, who reads requests but
    // never decides them; grace, another Jupyter user (her own token), sits on the committee.
    const me = await (await request.get(`${baseURL}/api/me`)).json();
    expect(me.identity.username).toBe('ada');
    const username = 'grace';
    await page.contents.uploadContent('id,age\n1,54\n', 'text', `${tmpPath}/cohort/participants.csv`);
    await page.contents.uploadContent('# Cohort\n', 'text', `${tmpPath}/cohort/README.md`);

    const form = await shareThroughContextMenu(page, tmpPath, 'cohort');
    await form.getByLabel('Title', { exact: true }).fill('Cohort study (restricted)');
    await form.getByRole('radio', { name: /Restricted/ }).check();
    await form.getByRole('button', { name: 'Add Jupyter user' }).click();
    await form.getByLabel('Jupyter username').fill(username);
    await form.getByRole('button', { name: 'Add external member' }).click();
    const member2 = form.locator('.jp-DataShare-row[data-field="committee.members[1]"]');
    await member2.getByLabel('Name').fill('Dr Grace Hopper');
    await member2.getByLabel('E-mail').fill('not-an-address');
    await form.getByLabel('Permitted use').selectOption('HMB');
    await form.getByRole('checkbox', { name: /IRB/ }).check();
    await form.getByLabel('Data use agreement').fill('No attempt to re-identify participants.');

    // The server names committee.members[1].email: the message appears in that row.
    await form.getByRole('button', { name: 'Share', exact: true }).click();
    await expect(member2.locator('.jp-DataShare-fieldError')).toHaveText(/^must be an e-mail address/);
    await expect(member2.getByLabel('E-mail')).toHaveAttribute('aria-invalid', 'true');

    await member2.getByLabel('E-mail').fill('grace@example.org');
    await form.getByRole('group', { name: 'Data use conditions' }).scrollIntoViewIfNeeded();
    await shoot(page, 'share-form-restricted', info);
    await form.getByRole('button', { name: 'Share', exact: true }).click();
    const done = page.getByTestId('datashare-share-done');
    await expect(done.getByTestId('datashare-share-summary')).toHaveText(/^2 files, /);
    const links = done.getByTestId('datashare-committee-links');
    await expect(links.locator('input')).toHaveCount(1);
    expect(await links.locator('input').inputValue()).toMatch(/\/datashare\/c\/dsc_/);
    await expect(links.getByRole('button', { name: /^Copy Dr Grace Hopper/ })).toBeVisible();
    const datasetId = (await done.locator('h2').innerText()).replace('Shared as ', '').trim();

    // -- a requester, without any Jupyter login, asks for access --------------------------------
    const requester = await stranger(browser);
    try {
      const answer = await requester.request.post(`${baseURL}/datashare/d/${datasetId}/request`, {
        headers: { Accept: 'application/json' },
        data: {
          name: 'Alan Turing',
          email: 'alan@example.org',
          institution: 'University of Manchester',
          purpose:
            'Replication of the published age analysis as part of a methods review; ' +
            'results will be compared with our own cohort and published together.',
          intended_use: ['HMB'],
          accept_agreement: true,
          requested_days: 30
        }
      });
      expect(answer.status()).toBe(201);
      // A second restricted dataset, decided by an external committee the owner is not on.
      const trial = await page.request.post(`${baseURL}/datashare/api/datasets`, {
        data: {
          path: `${tmpPath}/cohort/README.md`,
          title: 'Trial notes (restricted)',
          access: { level: 'restricted' },
          use_conditions: ['HMB'],
          agreement: 'No attempt to re-identify participants.',
          committee: { members: [{ name: 'Dr Grace Steward', email: 'steward@example.org' }] }
        }
      });
      expect(trial.status()).toBe(201);
      const other = await requester.request.post(`${baseURL}/datashare/d/${(await trial.json()).id}/request`, {
        headers: { Accept: 'application/json' },
        data: {
          name: 'Mary Somerville',
          email: 'mary@example.org',
          institution: 'University of Oxford',
          purpose:
            'Secondary analysis of the trial notes for a systematic review of reporting quality; ' +
            'no attempt at re-identification, results in aggregate only.',
          intended_use: ['HMB'],
          accept_agreement: true,
          requested_days: 30
        }
      });
      expect(other.status()).toBe(201);
    } finally {
      await requester.close();
    }

    // -- the owner reads both requests but decides neither --------------------------------------
    const panel = await openSidebar(page);
    await panel.getByRole('button', { name: 'Refresh the datasets' }).click();
    const owners = panel.locator('.jp-DataShare-request', { hasText: 'Alan Turing' });
    await expect(owners).toBeVisible();
    await expect(owners).toHaveAttribute('data-may-decide', 'false');
    await expect(owners.getByRole('button', { name: /^(Approve|Deny)/ })).toHaveCount(0);
    // The owner reads the other dataset's request but only its committee decides: no buttons.
    const notMine = panel.locator('.jp-DataShare-request', { hasText: 'Mary Somerville' });
    await expect(notMine).toHaveAttribute('data-may-decide', 'false');
    await expect(notMine.getByTestId('datashare-who-decides')).toContainText(
      'Decided by the committee: Dr Grace Steward (1 approval needed'
    );
    await expect(notMine.getByRole('button', { name: /^(Approve|Deny)/ })).toHaveCount(0);
    await expect(notMine.getByRole('checkbox')).toHaveCount(0);
    // Two pending, none of them the owner's to decide: no "decide several" bar.
    await expect(panel.locator('.jp-DataShare-bulk')).toHaveCount(0);
    await shoot(notMine, 'panel-request-decided-by-others', info);

    // -- grace, on the committee, decides in her own JupyterLab --------------------------------
    const colleague = await browser.newContext({
      extraHTTPHeaders: { Authorization: `token ${process.env.DATASHARE_UI_MEMBER_TOKEN}` }
    });
    try {
      const lab = await colleague.newPage();
      await lab.goto(`${baseURL}/lab`);
      await lab.locator('.lm-TabBar-tab[data-id="jp-datashare-panel"]').click();
      const inbox = lab.locator('#jp-datashare-panel');
      await expect(inbox).toBeVisible();
      const card = inbox.locator('.jp-DataShare-request', { hasText: 'Alan Turing' });
      await expect(card).toBeVisible();
      await expect(card).toContainText('University of Manchester');
      await expect(card.getByTestId('datashare-who-decides')).toContainText('You are on this committee.');
      await expectLabelled(inbox);
      await shoot(inbox, 'panel-request-inbox', info);
      // A denial needs a reason: the server says so next to the reason field.
      await card.getByRole('button', { name: 'Deny the request of Alan Turing' }).click();
      await expect(card.locator('.jp-DataShare-fieldError')).toContainText('needs a written reason');
      await card.getByRole('button', { name: 'Approve the request of Alan Turing' }).click();
      await expect(inbox.locator('.jp-DataShare-request', { hasText: 'Alan Turing' })).toHaveCount(0);
    } finally {
      await colleague.close();
    }

    // -- the grant, revoked with a reason ------------------------------------------------------
    // Keyboard: focus the dataset in the list and open it with Enter.
    await panel.getByRole('button', { name: 'Open dataset Cohort study (restricted)' }).focus();
    await page.keyboard.press('Enter');
    await expect(panel.locator('.jp-DataShare-datasetTitle')).toHaveText('Cohort study (restricted)');
    await panel.getByRole('button', { name: /^Grants/ }).click();
    const grant = panel.locator('[data-grant]');
    await expect(grant).toHaveCount(1);
    await expect(grant.locator('.jp-DataShare-badge')).toHaveText('active');
    await grant.getByRole('button', { name: /^Revoke grant/ }).click();
    await grant.getByRole('button', { name: 'Revoke grant', exact: true }).click();
    await expect(grant.locator('.jp-DataShare-fieldError')).toContainText('needs a reason');
    await grant.getByLabel('Reason for revoking (recorded)').fill('Study closed early');
    await grant.getByRole('button', { name: 'Revoke grant', exact: true }).click();
    await expect(panel.locator('[data-grant] .jp-DataShare-badge')).toHaveText('revoked');

    await panel.getByRole('button', { name: /^Committee/ }).click();
    await expect(panel.locator('[data-section="committee"]')).toContainText('Dr Grace Hopper');
    await expectLabelled(panel);
    await shoot(panel, 'panel-restricted-dataset', info);

    // A review link from the command palette: it opens the form with the focus in it. On a
    // restricted dataset the server wants allow_restricted, and says so next to that box.
    await fromPalette(page, 'Create Review Link…');
    await expect(panel.getByLabel('Label', { exact: true })).toBeFocused();
    await page.keyboard.type('Editor');
    await panel.getByTestId('datashare-create-link').click();
    const allow = panel.getByLabel('Let this link open the restricted files (without a committee decision)');
    await expect(allow).toHaveAttribute('aria-invalid', 'true');
    await expect(panel.locator('.jp-DataShare-linkForm .jp-DataShare-fieldError')).toContainText(
      'set allow_restricted'
    );
    await allow.check();
    await panel.getByTestId('datashare-create-link').click();
    await expect(panel.getByTestId('datashare-new-link-url')).toHaveValue(/\/datashare\/r\/dsr_/);

    // The whole story is in the dataset's audit trail.
    await panel.getByRole('button', { name: /^Audit events/ }).click();
    const events = panel.locator('.jp-DataShare-events');
    for (const action of ['request.submitted', 'decision.recorded', 'grant.issued', 'grant.revoked', 'link.created']) {
      await expect(events.locator(`[data-action="${action}"]`).first()).toBeVisible();
    }
  });
  test('preview a table, edit the dataset, change its access and cite it', async ({ page, tmpPath, baseURL }) => {
    const info = test.info();
    // One missing temperature, so the preview has something to report.
    await page.contents.uploadContent('site,depth_m,temp_c\nA,1.5,11.2\nB,3.0,\nC,4.5,9.1\n', 'text', `${tmpPath}/soil.csv`);
    const shared = await page.request.post(`${baseURL}/datashare/api/datasets`, {
      data: { path: `${tmpPath}/soil.csv`, title: 'Soil temperature', creators: [{ name: 'Ada Lovelace' }] }
    });
    expect(shared.status()).toBe(201);
    const datasetId: string = (await shared.json()).id;

    // -- the preview, from the palette (the dataset is chosen in a dialog) -----------------------
    await fromPalette(page, 'Show Dataset Files and Previews…');
    const chooser = page.locator('.jp-Dialog');
    await chooser.locator('select').selectOption({ label: `Soil temperature (${datasetId})` });
    await chooser.getByRole('button', { name: 'OK' }).click();
    const panel = page.locator('#jp-datashare-panel');
    await expect(panel.locator('.jp-DataShare-datasetTitle')).toHaveText('Soil temperature');
    const toggle = panel.getByRole('button', { name: 'Preview of soil.csv' });
    await expect(toggle).toContainText('3 rows · 3 columns');
    await toggle.click();
    const preview = panel.getByTestId('datashare-preview');
    await expect(preview.getByTestId('datashare-preview-quality')).toHaveText(
      '1 missing value in 1 column · no duplicate rows'
    );
    await expect(preview.locator('tr[data-column="temp_c"] td').nth(2)).toHaveText('1 (33%)');
    await expect(preview.getByTestId('datashare-preview-rows').locator('tbody tr')).toHaveCount(3);
    await expectLabelled(panel);
    await shoot(panel, 'panel-table-preview', info);

    // -- edit the title: an error next to the field first, then the saved title -------------------
    await fromPalette(page, 'Edit Dataset Details…');
    const details = panel.getByRole('form', { name: 'Edit details' });
    const title = details.getByLabel('Title', { exact: true });
    await expect(title).toBeFocused();
    await title.fill('');
    await details.getByRole('button', { name: 'Save details' }).click();
    await expect(details.locator('.jp-DataShare-fieldError').first()).toHaveText('must not be empty');
    await expect(title).toHaveAttribute('aria-invalid', 'true');
    await title.fill('Soil temperature by depth');
    await details.getByLabel('Keywords').fill('soil, temperature, depth');
    await shoot(panel, 'panel-edit-details', info);
    await details.getByRole('button', { name: 'Save details' }).click();
    await expect(details.locator('.jp-DataShare-banner-success')).toContainText('Saved the title and keywords.');
    await expect(panel.locator('.jp-DataShare-datasetTitle')).toHaveText('Soil temperature by depth');

    // -- access: reviewer-only, after a confirmation ---------------------------------------------
    await fromPalette(page, 'Change Dataset Access…');
    const access = panel.getByRole('form', { name: 'Edit access' });
    await access.getByRole('radio', { name: /Reviewer-only/ }).check();
    await shoot(panel, 'panel-edit-access', info);
    await access.getByRole('button', { name: 'Save access' }).click();
    const confirm = page.locator('.jp-Dialog');
    await expect(confirm).toContainText('Make "Soil temperature by depth" reviewer-only?');
    await confirm.getByRole('button', { name: 'Change access' }).click();
    await expect(panel.locator('.jp-DataShare-idLine .jp-DataShare-badge')).toHaveAttribute('data-level', 'reviewer-only');
    await expectLabelled(panel);

    // -- cite: the new title in the citation, DataCite saved as a file, the statements ------------
    await panel.getByRole('button', { name: /^Cite/ }).click();
    await expect(panel.getByTestId('datashare-cite-text')).toContainText('Soil temperature by depth (Version 1) [Data set]');
    await expect(panel.getByTestId('datashare-cite-availability')).toContainText('peer reviewers');
    await expect(panel.getByRole('button', { name: 'Copy the bibtex' })).toBeVisible();
    const [datacite] = await Promise.all([
      page.waitForEvent('download'),
      panel.getByRole('button', { name: 'Save DataCite JSON' }).click()
    ]);
    expect(datacite.suggestedFilename()).toBe(`${datasetId}-datacite.json`);
    const json = JSON.parse(fs.readFileSync(await datacite.path(), 'utf-8'));
    expect(json.titles[0].title).toBe('Soil temperature by depth');
    await shoot(panel, 'panel-cite', info);
    // The rights statement is incomplete: its link leads to the declaration, with the focus there.
    await panel.getByRole('button', { name: 'Complete the declaration' }).click();
    await expect(
      panel.getByLabel('The data contain no state secrets and no commercial secrets')
    ).toBeFocused();

    // Every change is in the dataset's audit trail.
    const events = (await (await page.request.get(`/datashare/api/audit?dataset=${datasetId}`)).json()).events;
    const actions = events.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['dataset.updated', 'access.changed']));
  });
});
