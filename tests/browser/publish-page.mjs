// Opens pages written by `dpa annex publish` in Debian's headless Chromium and reports what
// a reader (and a screen reader) gets. Called by tests/publish_site.rs, which asserts.
//
// Usage: node publish-page.mjs PLAN.json > RESULTS.json
// PLAN: { "cases": [ { "name", "page", "screenshot"? } ] }   (absolute paths)
// RESULTS: [ { "name", "lang", "title", "text", "fingerprint", "h1", "main", "asides",
//              "captions", "colHeaders", "rowHeaders", "unscopedHeaders", "requests",
//              "errors" } ]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const results = [];
try {
  for (const c of plan.cases) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const requests = [];
    const errors = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(pathToFileURL(c.page).href);
    const seen = await page.evaluate(() => {
      const facts = {};
      for (const dt of document.querySelectorAll('dl.facts dt')) {
        facts[dt.textContent.trim()] = dt.nextElementSibling.textContent.trim();
      }
      return {
        lang: document.documentElement.lang,
        title: document.title,
        text: document.body.innerText,
        fingerprint: facts['Fingerprint (SHA-256)'] ?? null,
        h1: document.querySelectorAll('h1').length,
        main: document.querySelectorAll('main').length,
        asides: document.querySelectorAll('aside[aria-labelledby]').length,
        captions: [...document.querySelectorAll('main table caption')].map((e) => e.textContent),
        colHeaders: document.querySelectorAll('th[scope=col]').length,
        rowHeaders: [...document.querySelectorAll('main th[scope=row]')].map((e) => e.textContent),
        unscopedHeaders: document.querySelectorAll('th:not([scope])').length,
      };
    });
    if (c.screenshot) await page.screenshot({ path: c.screenshot, fullPage: true });
    results.push({ name: c.name, ...seen, requests, errors });
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
