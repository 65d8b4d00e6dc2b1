// Runs pa11y (HTML_CodeSniffer, WCAG2AA) on every page and width given as JSON on stdin:
// {"pages": [{"name", "url", "actions"}], "widths": [360, 1280], "executablePath", "args"}.
// One Chromium for all of them (Debian's, never a downloaded one); prints one JSON array of
// {name, width, url, issues: [{type, code, selector, message}]} to stdout.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const pa11y = require("pa11y");
// pa11y's own puppeteer, wherever npm put it.
const puppeteer = createRequire(require.resolve("pa11y"))("puppeteer");

const config = JSON.parse(readFileSync(0, "utf8"));
const browser = await puppeteer.launch({
  executablePath: config.executablePath,
  args: config.args,
  headless: true,
});
const results = [];
try {
  const page = await browser.newPage();
  for (const width of config.widths) {
    for (const { name, url, actions } of config.pages) {
      const result = await pa11y(url, {
        browser,
        page,
        actions: actions || [],
        standard: "WCAG2AA",
        runners: ["htmlcs"],
        viewport: { width, height: 900 },
        timeout: 30000,
      });
      results.push({ name, width, url, issues: result.issues });
    }
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
