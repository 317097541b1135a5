// Chromium at the service's inbox, as a hub user: the hub's login form, back to the inbox through
// OAuth, then a denial with its confirmation step. Run by tests/service/test_jupyterhub.py:
//   node inbox_browser.js '{"url": ..., "user": ..., "password": ..., "request": ..., "reason": ..., "shots": dir}'
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'ui-tests', 'node_modules', 'playwright-core'));

(async () => {
  const args = JSON.parse(process.argv[2]);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update']
  });
  const out = { steps: [] };
  let page = null;
  try {
    for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
      const context = await browser.newContext({ viewport });
      page = await context.newPage();
      await page.goto(args.url);
      if (page.url().includes('/hub/login')) {
        await page.fill('#username_input', args.user);
        await page.fill('#password_input', args.password);
        await Promise.all([page.waitForURL(u => u.toString().startsWith(args.url), { timeout: 60000 }), page.click('#login_submit')]);
      }
      out.steps.push(`${name}: ${page.url()}`);
      await page.waitForSelector('text=Signed in as');
      out.signedIn = await page.locator('main p').first().innerText();
      out.scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      await page.screenshot({ path: path.join(args.shots, `inbox-${name}.png`), fullPage: true });
      if (name === 'phone') {
        out.phoneScrollWidth = out.scrollWidth;
        break;
      }
      const section = page.locator('section.request', { hasText: args.request });
      await section.locator('textarea').fill(args.reason);
      await section.locator('button[value=deny]').click();
      await page.waitForSelector('section.confirm');
      out.question = await page.locator('section.confirm h2').innerText();
      await page.screenshot({ path: path.join(args.shots, 'inbox-confirm.png'), fullPage: true });
      await page.click('button[name=confirm]');
      await page.waitForSelector('.notice');
      out.notice = await page.locator('.notice').innerText();
      await page.screenshot({ path: path.join(args.shots, 'inbox-decided.png'), fullPage: true });
      await context.close();
    }
  } catch (e) {
    out.error = String(e);
    out.page = page ? (await page.content()).slice(0, 3000) : null;
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})();
