// The push page: a push to a user reaches every tab of that user and no
// one else's; the sender form reports how many connections it reached.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openPage, unexpectedProblems } from './lib/browser.mjs';
import { api, sharedHerald, startHerald, unique } from './lib/herald.mjs';
import { received, sendPush, signInPush } from './lib/push.mjs';
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

test("a push to a user reaches both of that user's tabs and not another user's tab", async () => {
  const alice = unique('alice');
  const bob = unique('bob');
  // Two tabs of one browser, signed in as alice; bob in another browser.
  const tab1 = await signInPush(browser, server.url, alice);
  const tab2 = await signInPush(browser, server.url, alice, { context: tab1.context() });
  const bobTab = await signInPush(browser, server.url, bob);

  assert.equal(await sendPush(tab1, alice, 'disk almost full'), 'Delivered to 2 connections.');
  for (const p of [tab1, tab2]) {
    await p.locator('.toast', { hasText: 'disk almost full' }).waitFor();
    await eventually(async () => assert.deepEqual(await received(p), ['disk almost full']));
  }
  // Pushes reach a connection in order: once bob has his own, alice's
  // would have arrived before it had it been sent to him.
  assert.equal(await sendPush(tab2, bob, 'only for bob', 'note'), 'Delivered to 1 connection.');
  await bobTab.locator('.toast', { hasText: 'only for bob' }).waitFor();
  assert.deepEqual(await received(bobTab), ['only for bob']);
  assert.equal(await bobTab.locator('#pushes li[data-event="note"]').count(), 1);
  // Likewise alice's tabs did not get bob's.
  const r = await api(server.url, server.apiKey, 'POST', '/api/push', { user: alice, event: 'alert', data: { text: 'second' } });
  assert.deepEqual(r.body, { delivered: 2 });
  for (const p of [tab1, tab2]) {
    await eventually(async () => assert.deepEqual(await received(p), ['second', 'disk almost full']));
  }
  // Nobody home: the form says so.
  assert.equal(await sendPush(tab1, unique('nobody'), 'hello?'), 'Delivered to 0 connections.');
  // Markup in a push is text.
  await sendPush(tab1, alice, '<img src=x onerror=alert(1)>');
  await tab2.locator('.toast', { hasText: '<img src=x onerror=alert(1)>' }).waitFor();
  assert.equal(await tab2.locator('#pushes img, .toasts img').count(), 0);
  for (const p of [tab1, tab2, bobTab]) {
    assert.deepEqual(p.dialogs, []);
    assert.deepEqual(unexpectedProblems(p), []);
  }
  await tab1.context().close();
  await bobTab.context().close();
});

test('without dev mode: no dev login; the pages say so and still work as far as they can', async () => {
  const prod = await startHerald({ env: { HERALD_API_KEY: 'prod-key', HERALD_TOKEN_SECRET: 'prod-secret', HERALD_ALLOW_ANONYMOUS: 'true' } });
  try {
    assert.equal((await fetch(prod.url + '/dev/token', { method: 'POST', body: '{"user":"x"}' })).status, 404);
    // Push: sign-in is refused clearly; the key is not handed out.
    const push = await openPage(browser);
    await push.goto(prod.url + '/push');
    await push.getByLabel('User name').fill('zoe');
    await push.getByRole('button', { name: 'Sign in' }).click();
    await push.locator('#note', { hasText: 'no dev login' }).waitFor();
    assert.equal(await push.getByLabel('API key').inputValue(), '');
    // With the key typed in, the sender form still works.
    await push.getByLabel('API key').fill('prod-key');
    assert.equal(await sendPush(push, 'zoe', 'hi'), 'Delivered to 0 connections.');
    // Chat: guests may chat; the page says names are not verified.
    const chat = await openPage(browser);
    await chat.goto(prod.url + '/chat#guests');
    await chat.getByLabel('Display name').fill('Zoe');
    await chat.getByLabel('Display name').press('Enter');
    await chat.locator('#note', { hasText: 'guest' }).waitFor();
    await chat.locator('#status[data-state="connected"]').waitFor();
    await chat.locator('#messages[data-ready="true"]').waitFor();
    await chat.getByLabel('Message', { exact: true }).fill('hello as a guest');
    await chat.getByLabel('Message', { exact: true }).press('Enter');
    await chat.locator('#messages li.msg[data-author="Zoe"]', { hasText: 'hello as a guest' }).waitFor();
    await chat.locator('#people li', { hasText: 'guest' }).waitFor();
    for (const p of [push, chat]) assert.deepEqual(unexpectedProblems(p), []);
    await push.context().close();
    await chat.context().close();
  } finally {
    await prod.stop();
  }
});
