// Browser helpers: Debian's chromium, driven by playwright-core.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { E2E_DIR } from './herald.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(E2E_DIR, 'artifacts');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Launches headless chromium with flags that keep it quiet and offline. */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Opens a page in a new browser context (its own cookies and storage,
 * like another person). The page records uncaught errors, console errors
 * dialogs (alert() would mean script ran that should not have) and
 * requests to any host but herald's: page.problems lists them.
 */
export async function openPage(browser, { viewport = DESKTOP, isMobile = false, context } = {}) {
  const ctx = context || await browser.newContext({ viewport, isMobile, hasTouch: isMobile, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  watch(page);
  page.setDefaultTimeout(15000);
  return page;
}

/** Starts recording a page's errors and dialogs in page.problems / page.dialogs. */
export function watch(page) {
  page.problems = [];
  page.dialogs = [];
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console: ${msg.text()}`);
  });
  // Everything must come from herald itself: no CDN, no third party.
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && !['127.0.0.1', 'localhost'].includes(u.hostname)) {
      page.problems.push(`request elsewhere: ${r.url()}`);
    }
  });
  page.on('dialog', async (d) => {
    page.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  return page;
}

/** Saves a full-page screenshot under e2e/artifacts/ (or to an explicit path). */
export async function screenshot(page, name, { to } = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = to || path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
  return file;
}

// Console noise a page may log when the server goes away on purpose.
const EXPECTED = [/WebSocket connection to .* failed/, /Failed to load resource/];

/** page.problems minus expected network noise (and anything matching allow). */
export function unexpectedProblems(page, allow = []) {
  return page.problems.filter((p) => ![...EXPECTED, ...allow].some((re) => re.test(p)));
}
