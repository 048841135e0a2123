// Drives Debian's headless Chromium against generated verification pages and reports what a
// person would see. Called by tests/verifier_browser.rs, which makes the files and asserts.
//
// Usage: node verify-page.mjs PLAN.json > RESULTS.json
// PLAN: { "cases": [ { "name", "page", "pdf"?, "minisig"?, "via": "inputs"|"drop",
//                      "screenshot"?, "noEd25519"? } ] }   (all paths absolute)
// RESULTS: [ { "name", "valid", "reason", "title", "text", "vendor", "docTitle", "scripts",
//              "requests", "console", "errors" } ]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});

// Makes WebCrypto look like a browser without Ed25519 (Chrome < 137, Firefox < 129).
function hideEd25519() {
  const original = SubtleCrypto.prototype.importKey;
  SubtleCrypto.prototype.importKey = function (format, key, algorithm, ...rest) {
    const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
    if (String(name).toLowerCase() === 'ed25519') {
      return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
    }
    return original.call(this, format, key, algorithm, ...rest);
  };
}

const results = [];
try {
  for (const c of plan.cases) {
    const context = await browser.newContext({ viewport: { width: 880, height: 760 } });
    const requests = [];
    const consoleLines = [];
    const errors = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on('console', (m) => consoleLines.push(m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    if (c.noEd25519) await page.addInitScript(hideEd25519);
    await page.goto(pathToFileURL(c.page).href);
    // The page shows "waiting" (no data-valid) until it knows whether it can check at all.
    await page.waitForFunction(() => /Waiting|too old/.test(document.getElementById('verdict').textContent));

    const files = [c.pdf, c.minisig].filter(Boolean);
    if (c.via === 'drop') {
      const payload = files.map((p) => ({ name: basename(p), b64: readFileSync(p).toString('base64') }));
      const transfer = await page.evaluateHandle((list) => {
        const dt = new DataTransfer();
        for (const f of list) {
          const bytes = Uint8Array.from(atob(f.b64), (ch) => ch.charCodeAt(0));
          dt.items.add(new File([bytes], f.name));
        }
        return dt;
      }, payload);
      await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
    } else {
      if (c.pdf) await page.setInputFiles('#pdf', c.pdf);
      if (c.minisig) await page.setInputFiles('#minisig', c.minisig);
    }
    if (files.length === 2 || c.noEd25519) {
      await page.waitForSelector('#verdict[data-valid]', { timeout: 15000 });
    }
    const seen = await page.evaluate(() => {
      const v = document.getElementById('verdict');
      return {
        valid: v.dataset.valid ?? null,
        reason: v.dataset.reason ?? null,
        title: v.querySelector('.v-title')?.textContent ?? '',
        text: v.innerText.replace(/\s+/g, ' ').trim(), // what a person reads, in order
        vendor: document.getElementById('vendor').textContent,
        docTitle: document.title,
        scripts: document.scripts.length,
      };
    });
    if (c.screenshot) await page.screenshot({ path: c.screenshot, fullPage: true });
    results.push({ name: c.name, ...seen, requests, console: consoleLines, errors });
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
