/**
 * The public pages of restricted data, used as people without a Jupyter login use them: a
 * requester fills the request form in Chromium and follows their status link, an external
 * committee member decides and revokes on their personal committee page, the requester downloads
 * through the grant and asks for a renewal. Every public form is submitted by the browser itself
 * (no hand-built bodies): what the browser really sends is what the server must take.
 *
 * Only the set-up (the dataset and its committee) goes through the owner's API, with the token.
 */
import { expect, test } from '@playwright/test';
import type { APIRequestContext, Browser, BrowserContext, Locator, Page, Response } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

const SCREENSHOTS = path.join(__dirname, '..', 'test-results', 'screenshots');
const CSV = 'participant,sleep_h,stress\np01,6.5,3\np02,8.0,1\np03,5.0,4\n';
const AGREEMENT = 'No attempt to re-identify participants; delete the data when access ends.';
const PURPOSE =
  'We will estimate how sleep duration relates to reported stress in adults, replicating the ' +
  'published analysis on the anonymised questionnaire answers only.';
const PHONE = { width: 390, height: 844 };

test.describe.configure({ mode: 'serial' });

/** A browser with no Jupyter token or cookie (the config's token header is dropped). */
async function stranger(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  return browser.newContext({ acceptDownloads: true, extraHTTPHeaders: {}, viewport });
}

/** Nothing on the page is wider than its window (no sideways scrolling on a phone). */
async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const wide = await page.evaluate(() => {
    const limit = document.documentElement.clientWidth;
    return Array.from(document.querySelectorAll('body *'))
      .filter(el => el.getBoundingClientRect().right > limit + 1)
      .map(el => el.outerHTML.slice(0, 120));
  });
  expect(wide).toEqual([]);
}

async function shoot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await test.info().attach(name, { path: file, contentType: 'image/png' });
}

/** Click a submit button and return the answer to the POST it makes. */
async function press(page: Page, button: Locator): Promise<Response> {
  const [answer] = await Promise.all([
    page.waitForResponse(r => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    button.click()
  ]);
  await page.waitForLoadState();
  return answer;
}

/** The owner shares a folder as restricted data with one external committee member. */
async function shareRestricted(request: APIRequestContext, title: string): Promise<{ id: string; committee: string }> {
  const folder = `public-forms-${Date.now()}`;
  const put = async (p: string, body: object) => {
    const r = await request.put(`/api/contents/${p}`, { data: body });
    expect(r.status(), await r.text()).toBeLessThan(300);
  };
  await put(folder, { type: 'directory' });
  await put(`${folder}/survey.csv`, { type: 'file', format: 'text', content: CSV });
  await put(`${folder}/README.md`, { type: 'file', format: 'text', content: '# Sleep survey\n' });
  const shared = await request.post('/datashare/api/datasets', {
    data: {
      path: folder,
      title,
      access: { level: 'restricted' },
      use_conditions: ['HMB'],
      agreement: AGREEMENT,
      committee: { members: [{ name: 'Dr Grace Hopper', email: 'grace@example.org' }], required_approvals: 1 }
    }
  });
  expect(shared.status(), await shared.text()).toBe(201);
  const body = await shared.json();
  // The committee link is shown once, in this answer.
  expect(body.committee_links).toHaveLength(1);
  expect(body.committee_links[0].url).toMatch(/\/datashare\/c\/dsc_/);
  return { id: body.id, committee: body.committee_links[0].url };
}

/** Fill the landing page's request form as a person would, and press Send. */
async function sendRequest(
  page: Page,
  who: { name: string; email: string; institution: string; orcid?: string; ds?: string; days: string }
): Promise<Response> {
  const form = page.locator('form.request');
  await form.getByLabel('Your name').fill(who.name);
  await form.getByLabel('E-mail').fill(who.email);
  await form.getByLabel('Institution').fill(who.institution);
  await form.getByLabel('ORCID iD (optional)').fill(who.orcid ?? '');
  await form.getByLabel(/^Research purpose/).fill(PURPOSE);
  if (who.ds) {
    await form.getByLabel(/Disease-specific \(DS\) research/).fill(who.ds);
  } else {
    await form.getByRole('checkbox', { name: /^HMB:/ }).check();
  }
  await form.getByLabel(/^Access needed for/).fill(who.days);
  await form.getByRole('checkbox', { name: 'I accept the data use agreement above' }).check();
  return press(page, form.getByRole('button', { name: 'Send request' }));
}

/** The submitted page: a 201 that no cache or search engine keeps, with the status link. */
async function followStatusLink(page: Page, answer: Response): Promise<string> {
  expect(answer.status()).toBe(201);
  expect(answer.headers()['cache-control']).toBe('no-store');
  expect(answer.headers()['x-robots-tag']).toContain('noindex');
  await expect(page.getByRole('heading', { name: 'Your request was sent' })).toBeVisible();
  const link = page.getByRole('link', { name: /\/datashare\/s\/dss_/ });
  const statusUrl = (await link.getAttribute('href')) as string;
  await link.click();
  await expect(page).toHaveURL(statusUrl);
  return statusUrl;
}

test('a stranger requests access, the committee approves on its page, the requester downloads and asks for a renewal', async ({
  browser,
  request
}) => {
  const { id, committee } = await shareRestricted(request, 'Sleep and stress survey');

  // -- the requester: no Jupyter login --------------------------------------------------------
  const requester = await stranger(browser);
  const member = await stranger(browser);
  try {
    expect((await requester.request.get('/datashare/api/datasets')).ok()).toBe(false);
    const page = await requester.newPage();
    const landing = await page.goto(`/datashare/d/${id}`);
    expect(landing?.status()).toBe(200);
    await expect(page.getByRole('heading', { name: 'Request access' })).toBeVisible();
    await expect(page.locator('blockquote')).toHaveText(AGREEMENT);
    await shoot(page, 'public-request-form');

    const sent = await sendRequest(page, {
      name: 'Alan Turing',
      email: 'alan@example.org',
      institution: 'University of Manchester',
      orcid: '0000-0002-1825-0097',
      days: '30'
    });
    const statusUrl = await followStatusLink(page, sent);
    await expect(page.locator('.badge')).toHaveText('pending');
    await shoot(page, 'public-status-pending');

    // -- the committee member, on their personal link, in another browser ----------------------
    const desk = await member.newPage();
    expect((await desk.goto(committee))?.status()).toBe(200);
    const card = desk.locator('section.request', { hasText: 'Alan Turing' });
    await expect(card).toContainText('University of Manchester');
    await expect(card).toContainText('0000-0002-1825-0097');
    await expect(card).toContainText('HMB');
    await shoot(desk, 'public-committee-page');
    const approved = await press(desk, card.getByRole('button', { name: 'Approve' }));
    expect(approved.status()).toBe(303); // back to the page: a reload never sends the decision again
    await expect(desk.getByRole('status')).toContainText('the request is approved');
    await desk.reload();
    await expect(desk.getByRole('status')).toContainText('the request is approved');
    await expect(desk.getByText('already')).toHaveCount(0);

    // -- the requester reloads the status page and downloads through the grant ------------------
    await page.reload();
    await expect(page.locator('.badge')).toHaveText('approved');
    await shoot(page, 'public-status-approved');
    const fileLink = page.getByRole('link', { name: 'survey.csv' });
    const [download] = await Promise.all([page.waitForEvent('download'), fileLink.click()]);
    expect(download.suggestedFilename()).toBe('survey.csv');
    expect(fs.readFileSync(await download.path()).toString('utf8')).toBe(CSV);
    const fileUrl = new URL((await fileLink.getAttribute('href')) as string, page.url()).toString();

    // -- the renewal form ----------------------------------------------------------------------
    const renewed = await press(page, page.getByRole('button', { name: 'Ask the committee for a renewal' }));
    expect(renewed.status()).toBe(200);
    await expect(page.getByRole('status')).toHaveText('Your renewal request was sent to the committee.');
    await page.goto(statusUrl);
    await expect(page.getByText(/You asked for a renewal on \d{4}-\d\d-\d\d/)).toBeVisible();

    // -- the committee sees the renewal and revokes the grant on its page ----------------------
    await desk.goto(committee);
    const granted = desk.locator('section.request', { hasText: 'Alan Turing' });
    await expect(granted).toContainText('the requester asked for a renewal');
    await granted.getByLabel('Reason to revoke').fill('Ethics approval withdrawn');
    const revoked = await press(desk, granted.getByRole('button', { name: 'Revoke access' }));
    expect(revoked.status()).toBe(303);
    await expect(desk.getByRole('status')).toContainText('was revoked');

    await page.reload();
    await expect(page.locator('.badge')).toHaveText('revoked');
    await expect(page.getByText('Your access has been revoked: Ethics approval withdrawn.')).toBeVisible();
    expect((await requester.request.get(fileUrl)).status()).toBe(404);
  } finally {
    await requester.close();
    await member.close();
  }
});

test('on a phone: a request with a disease term, denied with a reason on the committee page', async ({
  browser,
  request
}) => {
  const { id, committee } = await shareRestricted(request, 'Sleep survey, second wave');
  const requester = await stranger(browser, PHONE);
  const member = await stranger(browser, PHONE);
  try {
    const page = await requester.newPage();
    await page.goto(`/datashare/d/${id}`);
    await expectNoSidewaysScroll(page);
    await page.locator('form.request').scrollIntoViewIfNeeded();
    await shoot(page, 'phone-request-form');
    const sent = await sendRequest(page, {
      name: 'Katherine Johnson',
      email: 'katherine@example.org',
      institution: 'West Virginia State University',
      ds: 'MONDO:0005148',
      days: '60'
    });
    const statusUrl = await followStatusLink(page, sent);
    await expectNoSidewaysScroll(page);
    await shoot(page, 'phone-status-pending');

    const desk = await member.newPage();
    await desk.goto(committee);
    const card = desk.locator('section.request', { hasText: 'Katherine Johnson' });
    await expect(card).toContainText('DS:MONDO:0005148');
    await expectNoSidewaysScroll(desk);
    await shoot(desk, 'phone-committee-page');
    // A denial without a reason is refused, and nothing is decided.
    const bare = await press(desk, card.getByRole('button', { name: 'Deny' }));
    expect(bare.status()).toBe(400);
    await expect(desk.getByText('a denial needs a written reason for the requester')).toBeVisible();
    await desk.goto(committee);
    const again = desk.locator('section.request', { hasText: 'Katherine Johnson' });
    await expect(again.locator('.badge')).toHaveText('pending');
    await again.getByLabel(/^Reason \(required to deny/).fill('The dataset is not about type 2 diabetes');
    const denied = await press(desk, again.getByRole('button', { name: 'Deny' }));
    expect(denied.status()).toBe(303);
    await expect(desk.getByRole('status')).toContainText('the request is denied');

    await page.goto(statusUrl);
    await expect(page.locator('.badge')).toHaveText('denied');
    await expect(page.getByText('The committee denied the request: The dataset is not about type 2 diabetes')).toBeVisible();
    await shoot(page, 'phone-status-denied');
  } finally {
    await requester.close();
    await member.close();
  }
});
