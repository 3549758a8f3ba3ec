// Driving the chat page (/chat) from tests.
import { openPage } from './browser.mjs';

/** Opens /chat#room in a fresh context and joins as name. */
export async function joinChat(browser, url, name, room, opts = {}) {
  const page = await openPage(browser, opts);
  await page.goto(`${url}/chat#${room}`);
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Display name').press('Enter');
  await ready(page, room);
  return page;
}

/** Waits until the page is connected and shows room's history. */
export async function ready(page, room) {
  await page.locator('#status[data-state="connected"]').waitFor();
  await page.locator('#room-title').filter({ hasText: `#${room}` }).waitFor();
  await page.locator('#messages[data-ready="true"]').waitFor();
}

/** Types text into the message box and sends it with Enter. */
export async function send(page, text) {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** The messages shown, as [{author, text}]. */
export function messages(page) {
  return page.locator('#messages li.msg').evaluateAll((lis) => lis.map((li) => ({
    author: li.dataset.author, text: li.querySelector('.text').textContent,
  })));
}

/** The texts of the messages shown. */
export async function texts(page) {
  return (await messages(page)).map((m) => m.text);
}

/** The names in the "Online" list. */
export function online(page) {
  return page.locator('#people li').evaluateAll((lis) => lis.map((li) => li.dataset.user).sort());
}
