// The chat page after time away: herald closes the page's connection when
// its token expires (4006), the page reconnects by itself, and what was
// published meanwhile is shown once, in order, marked as missed; when the
// server cannot replay it all, the page says messages may be missing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch, openPage, screenshot, unexpectedProblems } from './lib/browser.mjs';
import { ready, send } from './lib/chat.mjs';
import { api, signToken, startHerald, unique } from './lib/herald.mjs';
import { eventually } from './lib/wait.mjs';

// A resuming subscribe that missed more than this gets recovered: false.
const RECOVERY_MAX = 5;
const TOKEN_SECONDS = 10; // long enough to open the page and send, short enough to wait for

let browser;
let server;

before(async () => {
  server = await startHerald({ env: { HERALD_HISTORY_RECOVERY_MAX: String(RECOVERY_MAX) } });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Opens /chat#room as name with a token that expires in TOKEN_SECONDS:
 * the server then closes the socket (4006) and the page asks /dev/token
 * for a new one, which is held until comeBack(). away resolves once the
 * page has asked, so it is offline for as long as the test wants.
 */
async function openUntilExpiry(name, room) {
  const page = await openPage(browser);
  page.sent = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => page.sent.push(String(f.payload))));
  let asked;
  const away = new Promise((r) => { asked = r; });
  let release;
  const back = new Promise((r) => { release = r; });
  let calls = 0;
  await page.route('**/dev/token', async (route) => {
    const now = Math.floor(Date.now() / 1000);
    if (calls++ > 0) {
      asked();
      await back;
    }
    const exp = calls === 1 ? now + TOKEN_SECONDS : now + 3600;
    route.fulfill({ contentType: 'application/json', body: JSON.stringify({ token: signToken(server.tokenSecret, { sub: name, exp }) }) });
  });
  await page.goto(`${server.url}/chat#${room}`);
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Display name').press('Enter');
  await ready(page, room);
  return { page, away, comeBack: release };
}

/** The messages shown, as [text, missed?] pairs. */
function shown(page) {
  return page.locator('#messages li.msg').evaluateAll((lis) => lis.map((li) => [
    li.querySelector('.text').textContent, li.classList.contains('missed'),
  ]));
}

async function publish(channel, text) {
  const r = await api(server.url, server.apiKey, 'POST', '/api/publish', { channel, data: { text } });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** The subscribes the page sent for channel, parsed. */
function subscribes(page, channel) {
  return page.sent.flatMap((f) => f.split('\n')).filter(Boolean).map((l) => JSON.parse(l))
    .filter((m) => m.op === 'subscribe' && m.channel === channel);
}

describe('chat after time away', () => {
  test('opens with the history; after a reconnect shows what it missed once, in order, marked', async () => {
    const room = unique('away');
    const channel = `chat:${room}`;
    for (const t of ['earlier 1', 'earlier 2']) await publish(channel, t);
    const { page, away, comeBack } = await openUntilExpiry('Ann', room);
    assert.deepEqual(await shown(page), [['earlier 1', false], ['earlier 2', false]], 'the history, on open');
    await send(page, 'mine before');
    await eventually(async () => assert.equal((await shown(page)).length, 3));

    await away;
    await page.locator('#status[data-state="reconnecting"]').waitFor();
    for (const t of ['missed 1', 'missed 2', 'missed 3']) await publish(channel, t);
    comeBack();
    await page.locator('#status[data-state="connected"]').waitFor();
    await eventually(async () => assert.equal((await shown(page)).length, 6));
    await publish(channel, 'live after');
    await eventually(async () => assert.equal((await shown(page)).length, 7));

    assert.deepEqual(await shown(page), [
      ['earlier 1', false], ['earlier 2', false], ['mine before', false],
      ['missed 1', true], ['missed 2', true], ['missed 3', true],
      ['live after', false],
    ]);
    assert.deepEqual(await page.locator('#messages li.msg.missed .missed-label').allTextContents(),
      ['missed while offline', 'missed while offline', 'missed while offline']);
    await page.locator('#messages .notice', { hasText: 'While you were offline: 3 new messages.' }).waitFor();
    assert.equal(await page.locator('#messages .notice', { hasText: 'may be missing' }).count(), 0);
    // The page resumed from the last message it showed.
    const subs = subscribes(page, channel);
    assert.equal(subs.length, 2);
    assert.equal(subs[0].since, undefined);
    assert.equal(subs[1].since.offset, 3);
    await screenshot(page, 'chat-missed-desktop');
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });

  test('when the server cannot replay everything, the page says so and shows what the room keeps, marked', async () => {
    const room = unique('gone');
    const channel = `chat:${room}`;
    const { page, away, comeBack } = await openUntilExpiry('Bea', room);
    await send(page, 'hello');
    await eventually(async () => assert.deepEqual(await shown(page), [['hello', false]]));

    await away;
    const missed = Array.from({ length: RECOVERY_MAX + 2 }, (_, i) => `missed ${i + 1}`);
    for (const t of missed) await publish(channel, t);
    comeBack();
    await page.locator('#messages .notice', { hasText: 'Some messages sent while you were away may be missing.' }).waitFor();
    await eventually(async () => assert.equal((await shown(page)).length, 1 + missed.length));
    assert.deepEqual(await shown(page), [['hello', false], ...missed.map((t) => [t, true])]);
    await publish(channel, 'live after');
    await eventually(async () => assert.deepEqual((await shown(page)).at(-1), ['live after', false]));
    assert.equal((await shown(page)).length, missed.length + 2);
    assert.deepEqual(unexpectedProblems(page), []);
    await page.context().close();
  });
});
