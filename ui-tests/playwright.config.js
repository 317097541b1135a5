/**
 * Galata / Playwright configuration: Debian's Chromium (/usr/bin/chromium, no browser download)
 * against a real `jupyter lab` that the webServer below starts with a token.
 */
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// Shared by the server and every worker (workers inherit the environment of the runner).
process.env.DATASHARE_UI_TOKEN ||= crypto.randomBytes(24).toString('hex');
process.env.DATASHARE_UI_MEMBER_TOKEN ||= crypto.randomBytes(24).toString('hex');
process.env.DATASHARE_UI_PORT ||= '8899';
// One temporary folder per run for the server's root, the datashare store, Jupyter's runtime
// files and its configuration: the user's own (~/.jupyter, ~/.local/share/jupyter) are neither
// read nor written. global-teardown.js removes it.
process.env.DATASHARE_UI_TMP ||= fs.mkdtempSync(path.join(os.tmpdir(), 'datashare-ui-'));
process.env.JUPYTER_CONFIG_DIR = path.join(process.env.DATASHARE_UI_TMP, 'config');
process.env.JUPYTER_RUNTIME_DIR = path.join(process.env.DATASHARE_UI_TMP, 'runtime');
const baseURL = `http://localhost:${process.env.DATASHARE_UI_PORT}`;

module.exports = {
  ...baseConfig,
  testDir: './tests',
  globalTeardown: require.resolve('./global-teardown.js'),
  outputDir: './test-results',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  workers: 1,
  fullyParallel: false,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    ...baseConfig.use,
    baseURL,
    // JupyterLab (and galata's own requests) authenticate with the token; a context made
    // with browser.newContext() does not get these headers: that is the reviewer's browser.
    extraHTTPHeaders: { Authorization: `token ${process.env.DATASHARE_UI_TOKEN}` },
    acceptDownloads: true,
    video: 'off',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1400, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update'
      ]
    }
  },
  webServer: {
    command: 'jlpm start',
    url: `${baseURL}/api`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe'
  }
};
