// The chat page in a real browser: two people in one room, presence,
// join/leave, history across reloads, rooms, text-only rendering.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { launch, openPage, unexpectedProblems } from './lib/browser.mjs';
import { joinChat, messages, online, ready, send, texts } from './lib/chat.mjs';
import { api, sharedHerald, unique } from './lib/herald.mjs';
import { eventually } from './lib/wait.mjs';

let browser;
let server;

before(async () => {
  server = await sharedHerald();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.release();
});

describe('chat', () => {
  test('two people chat in one room: every message, in order, on both pages; presence; leaving', async () => {
    const room = unique('room');
    const ann = await joinChat(browser, server.url, 'Ann Lee', room);
    const bob = await joinChat(browser, server.url, 'Bob', room);

    // Presence lists both, on both pages; Ann saw Bob join.
    for (const p of [ann, bob]) await eventually(async () => assert.deepEqual(await online(p), ['Ann Lee', 'Bob']));
    await ann.locator('#messages .notice', { hasText: 'Bob joined' }).waitFor();

    // Interleaved messages from both sides, sent without waiting for each other.
    const sent = [];
    for (let i = 1; i <= 5; i++) {
      await send(ann, `ann ${i}`);
      sent.push({ author: 'Ann Lee', text: `ann ${i}` });
      await send(bob, `bob ${i}`);
      sent.push({ author: 'Bob', text: `bob ${i}` });
    }
    // Each sender's own messages are in its order; both pages agree on one order.
    await eventually(async () => assert.equal((await messages(ann)).length, 10));
    await eventually(async () => assert.equal((await messages(bob)).length, 10));
    const seenByAnn = await messages(ann);
    assert.deepEqual(await messages(bob), seenByAnn, 'both pages show the same messages in the same order');
    assert.deepEqual(seenByAnn.filter((m) => m.author === 'Ann Lee').map((m) => m.text), ['ann 1', 'ann 2', 'ann 3', 'ann 4', 'ann 5']);
    assert.deepEqual(seenByAnn.filter((m) => m.author === 'Bob').map((m) => m.text), ['bob 1', 'bob 2', 'bob 3', 'bob 4', 'bob 5']);
    assert.deepEqual([...seenByAnn].sort(byText), [...sent].sort(byText));

    // Messages carry a time and an initials avatar drawn locally.
    const first = ann.locator('#messages li.msg').first();
    assert.match(await first.locator('time').getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
    assert.equal(await first.locator('.avatar').textContent(), 'AL');

    // Bob leaves: Ann sees the notice and the online list shrinks.
    await bob.context().close();
    await ann.locator('#messages .notice', { hasText: 'Bob left' }).waitFor();
    await eventually(async () => assert.deepEqual(await online(ann), ['Ann Lee']));
    assert.deepEqual(unexpectedProblems(ann), []);
    await ann.context().close();
  });

  test('a reload keeps the room history', async () => {
    const room = unique('history');
    const page = await joinChat(browser, server.url, 'Cleo', room);
    for (const t of ['one', 'two', 'three']) await send(page, t);
    await eventually(async () => assert.deepEqual(await texts(page), ['one', 'two', 'three']));
    await page.reload();
    await ready(page, room);
    assert.deepEqual(await texts(page), ['one', 'two', 'three'], 'history after reload');
    // A newcomer gets the same history, and server publications show too.
    const r = await api(server.url, server.apiKey, 'POST', '/api/publish', { channel: `chat:${room}`, data: { text: 'from the server' } });
    assert.equal(r.status, 200, r.text);
    const dan = await joinChat(browser, server.url, 'Dan', room);
    await eventually(async () => assert.deepEqual(await texts(dan), ['one', 'two', 'three', 'from the server']));
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
    await dan.context().close();
  });

  test('messages are text: markup is shown, never run', async () => {
    const room = unique('xss');
    const evil = '<img src=x onerror=alert(1)>';
    const eve = await joinChat(browser, server.url, '<b>Eve</b>', room);
    const fay = await joinChat(browser, server.url, 'Fay', room);
    await send(eve, evil);
    await send(eve, '<script>alert(2)</script>');
    for (const p of [eve, fay]) {
      await eventually(async () => assert.deepEqual(await texts(p), [evil, '<script>alert(2)</script>']));
      assert.equal(await p.locator('#messages img').count(), 0, 'no element was made from the message');
      assert.equal(await p.locator('#messages script').count(), 0);
      assert.equal(await p.locator('#messages b').count(), 0, 'the name is text too');
      assert.deepEqual(p.dialogs, [], 'no script ran');
      assert.deepEqual(unexpectedProblems(p), []);
    }
    assert.equal((await messages(fay))[0].author, '<b>Eve</b>');
    await eve.context().close();
    await fay.context().close();
  });

  test('rooms: create one, others see it in the list and join it; invalid names are refused', async () => {
    const lobby = unique('lobby');
    const gus = await joinChat(browser, server.url, 'Gus', lobby);
    const hal = await joinChat(browser, server.url, 'Hal', lobby);
    const box = gus.getByLabel('New room');
    await box.fill('bad name!');
    await box.press('Enter');
    await gus.locator('#room-error', { hasText: 'letters, digits' }).waitFor();
    assert.equal(await box.getAttribute('aria-invalid'), 'true');

    const room = unique('new');
    await box.fill(room);
    await box.press('Enter');
    await ready(gus, room);
    assert.equal(await gus.evaluate(() => location.hash), `#${room}`);
    // Hal's rooms list learns of it live, and Hal can follow the link.
    const link = hal.locator(`#rooms a[data-room="${room}"]`);
    await link.waitFor();
    await link.click();
    await ready(hal, room);
    await send(hal, 'hi gus');
    await eventually(async () => assert.deepEqual(await texts(gus), ['hi gus']));
    // A page opened later lists it from the history of chat:rooms.
    const ivy = await joinChat(browser, server.url, 'Ivy', lobby);
    await ivy.locator(`#rooms a[data-room="${room}"]`).waitFor();
    for (const p of [gus, hal, ivy]) await p.context().close();
  });

  test('Gravatar pictures only when turned on; initials otherwise', async () => {
    const room = unique('grav');
    // Without the option: initials, and nothing fetched from elsewhere (checked by openPage).
    const plain = await joinChat(browser, server.url, 'Lou', room);
    // With it: the page sends the email's SHA-256 (never the email) and shows the picture.
    const page = await openPage(browser);
    const fetched = [];
    await page.route('https://www.gravatar.com/**', (route) => {
      fetched.push(route.request().url());
      return route.fulfill({ contentType: 'image/png', body: Buffer.from(PIXEL, 'base64') });
    });
    await page.goto(`${server.url}/chat#${room}`);
    await page.getByLabel('Display name').fill('Max');
    await page.locator('summary', { hasText: 'Options' }).click();
    await page.getByLabel(/Show Gravatar pictures/).check();
    await page.getByLabel(/Email for your Gravatar/).fill(' Max@Example.com ');
    await page.getByRole('button', { name: 'Join' }).click();
    await ready(page, room);
    await send(page, 'with a picture');
    await page.locator('#messages li.msg .avatar img').waitFor();
    assert.equal(fetched.length, 1);
    assert.match(fetched[0], /^https:\/\/www\.gravatar\.com\/avatar\/[0-9a-f]{64}\?s=72&d=404$/);
    const expected = createHash('sha256').update('max@example.com').digest('hex');
    assert.ok(fetched[0].includes(expected), 'the hash of the trimmed, lower-case email');
    // Lou has Gravatar off: Max's message shows initials there.
    await eventually(async () => assert.deepEqual(await texts(plain), ['with a picture']));
    assert.equal(await plain.locator('#messages .avatar img').count(), 0);
    assert.equal(await plain.locator('#messages .avatar').first().textContent(), 'MA');
    assert.deepEqual(unexpectedProblems(plain), []);
    assert.deepEqual(unexpectedProblems(page, [/gravatar\.com/]), []);
    await plain.context().close();
    await page.context().close();
  });

  test('works with the keyboard alone', async () => {
    const room = unique('keys');
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${server.url}/chat#${room}`);
    // The name field has focus on arrival; type and press Enter.
    await page.locator('#name:focus').waitFor();
    await page.keyboard.type('Kim');
    await page.keyboard.press('Enter');
    await ready(page, room);
    // Focus lands in the message box; Enter sends.
    await page.locator('#message:focus').waitFor();
    await page.keyboard.type('typed, not clicked');
    await page.keyboard.press('Enter');
    await eventually(async () => assert.deepEqual(await texts(page), ['typed, not clicked']));
    // Tab reaches the send button next, and every input has a label.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'send');
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input')]
      .filter((i) => !(i.labels && i.labels.length)).map((i) => i.id));
    assert.deepEqual(unlabelled, []);
    // Changing the name: back to the form, then the same room under the new name.
    await page.locator('#change-name').focus();
    await page.keyboard.press('Enter');
    await page.locator('#name:focus').waitFor();
    assert.equal(await page.locator('#status').textContent(), 'Not signed in');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Kim Two');
    await page.keyboard.press('Enter');
    await ready(page, room);
    await eventually(async () => assert.deepEqual(await online(page), ['Kim Two']));
    assert.deepEqual(await texts(page), ['typed, not clicked']);
    await page.context().close();
  });
});

// A 1x1 PNG.
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function byText(a, b) { return a.text.localeCompare(b.text); }
