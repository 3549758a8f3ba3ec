// Driving the push page (/push) from tests.
import { openPage } from './browser.mjs';

/** Opens /push (in context, or a fresh one) and signs in as user. */
export async function signInPush(browser, url, user, opts = {}) {
  const page = await openPage(browser, opts);
  await page.goto(`${url}/push`);
  await page.getByLabel('User name').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#status[data-state="connected"]').waitFor();
  return page;
}

/** Sends a push with the page's sender form; resolves with the result line. */
export async function sendPush(page, user, text, event = 'alert') {
  await page.bringToFront(); // a tab in the background has its timers throttled
  await page.getByLabel('User', { exact: true }).fill(user);
  await page.getByLabel('Event').fill(event);
  await page.getByLabel('Message').fill(text);
  const before = await page.locator('#result').getAttribute('data-n');
  await page.getByRole('button', { name: 'Send push' }).click();
  // Wait for this send's answer (the result line changes every time).
  await page.waitForFunction((b) => document.querySelector('#result').dataset.n !== b
    && !document.querySelector('#send').disabled, before, { polling: 50 });
  return (await page.locator('#result').textContent()).trim();
}

/** The texts of the pushes the page has logged, newest first. */
export function received(page) {
  return page.locator('#pushes li[data-event]').evaluateAll((lis) => lis.map((li) => li.querySelector('.text').textContent));
}
