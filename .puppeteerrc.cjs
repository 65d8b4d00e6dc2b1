// Puppeteer (pa11y's) never downloads a browser: the tests launch Debian's Chromium.
module.exports = { skipDownload: true };
