/**
 * Remove the run's temporary folder (server root, datashare store, Jupyter runtime and config),
 * made by playwright.config.js.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
  const dir = process.env.DATASHARE_UI_TMP;
  if (dir && path.dirname(dir) === os.tmpdir() && path.basename(dir).startsWith('datashare-ui-')) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};
