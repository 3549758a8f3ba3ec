// Every page at desktop and phone width (screenshots under e2e/artifacts/),
// the home page's live figures, and how the files are served.
// E2E_UPDATE_DOCS=1 also writes docs/chat.png, the README's screenshot.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, PHONE, launch, openPage, screenshot, unexpectedProblems } from './lib/browser.mjs';
import { joinChat, send, texts } from './lib/chat.mjs';
import { REPO_DIR, api, startHerald } from './lib/herald.mjs';
import { sendPush, signInPush } from './lib/push.mjs';
import { eventually } from './lib/wait.mjs';

let browser;
let server;
const open = []; // pages to check for errors at the end

before(async () => {
  server = await startHerald(); // its own, so the rooms list shows only this test's rooms
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('pages', () => {
  test('chat at desktop and phone width, with a conversation', async () => {
    const ann = await joinChat(browser, server.url, 'Ann Lee', 'lobby');
    const bob = await joinChat(browser, server.url, 'Bob Marsh', 'lobby', { viewport: PHONE, isMobile: true });
    const chen = await joinChat(browser, server.url, 'Chen Wei', 'lobby');
    open.push(ann, bob, chen);
    // A couple of other rooms, announced the way the page does it.
    for (const room of ['design', 'ops']) {
      await api(server.url, server.apiKey, 'POST', '/api/publish', { channel: 'chat:rooms', data: { room } });
    }
    await send(ann, 'Morning! Is the deploy still on for 3pm?');
    await eventually(async () => assert.equal((await texts(bob)).length, 1));
    await send(bob, 'Yes, as soon as the migration finishes.');
    await eventually(async () => assert.equal((await texts(ann)).length, 2));
    await send(bob, 'It is at 80% now.');
    await eventually(async () => assert.equal((await texts(ann)).length, 3));
    await api(server.url, server.apiKey, 'POST', '/api/publish', { channel: 'chat:lobby', data: { text: 'Migration 42 finished in 6m 12s.', name: 'deploy-bot' } });
    await eventually(async () => assert.equal((await texts(chen)).length, 4));
    await send(chen, "Great, I'll keep an eye on the dashboards.");
    await send(ann, 'Thanks both, shipping it.');
    for (const p of [ann, bob]) {
      await eventually(async () => assert.equal((await texts(p)).length, 6));
      await p.locator('#rooms a[data-room="ops"]').waitFor();
    }
    await ann.getByLabel('Message', { exact: true }).fill('Looks good');
    await screenshot(ann, 'chat-desktop');
    if (process.env.E2E_UPDATE_DOCS) await screenshot(ann, 'chat', { to: path.join(REPO_DIR, 'docs', 'chat.png') });
    await screenshot(bob, 'chat-phone');
    // At phone width the page fits: nothing scrolls sideways.
    assert.equal(await bob.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
    // The sign-in form, at both widths.
    for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const p = await openPage(browser, { viewport, isMobile: viewport === PHONE });
      await p.goto(server.url + '/chat');
      await p.getByLabel('Display name').waitFor();
      await screenshot(p, `chat-signin-${name}`);
      await p.context().close();
    }
  });

  test('push at desktop and phone width, with notifications', async () => {
    for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const user = `alice-${name}`;
      const p = await signInPush(browser, server.url, user, { viewport, isMobile: viewport === PHONE });
      open.push(p);
      assert.equal(await sendPush(p, user, 'Backup finished: 14 GB in 3m 20s', 'backup'), 'Delivered to 1 connection.');
      assert.equal(await sendPush(p, user, 'Disk /var is 91% full'), 'Delivered to 1 connection.');
      await p.locator('.toast').nth(1).waitFor();
      await p.evaluate(() => { document.activeElement.blur(); window.scrollTo(0, 0); });
      await screenshot(p, `push-${name}`);
      assert.equal(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
    }
  });

  test('home at desktop and phone width; its figures update by themselves', async () => {
    for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const p = await openPage(browser, { viewport, isMobile: viewport === PHONE });
      open.push(p);
      await p.goto(server.url + '/');
      const stats = p.locator('#stats');
      await p.waitForFunction(() => document.querySelector('#stats').dataset.updated);
      const first = await stats.getAttribute('data-updated');
      // Refreshed again without anything done on the page.
      await p.waitForFunction((f) => document.querySelector('#stats').dataset.updated !== f, first, { polling: 100 });
      // And they are the node's figures: every page of these tests is a connection.
      await eventually(async () => {
        const s = await (await fetch(server.url + '/stats')).json();
        assert.ok(s.connections >= 5, `connections ${s.connections}`);
        assert.equal(await p.locator('#s-connections').textContent(), String(s.connections));
      }, { timeout: 8000 });
      assert.match(await p.locator('#node-line').textContent(), /^node \S+ · .+ · up \d/);
      await screenshot(p, `home-${name}`);
      assert.equal(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
    }
  });

  test('files are served with their types, short caching, and 404 for anything else', async () => {
    const get = (p, init) => fetch(server.url + p, init);
    const cases = [
      ['/', 'text/html; charset=utf-8', 'no-cache'],
      ['/chat', 'text/html; charset=utf-8', 'no-cache'],
      ['/push', 'text/html; charset=utf-8', 'no-cache'],
      ['/js/herald.js', 'text/javascript; charset=utf-8', 'public, max-age=300'],
      ['/css/herald.css', 'text/css; charset=utf-8', 'public, max-age=300'],
    ];
    for (const [p, type, cache] of cases) {
      const r = await get(p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('content-type'), type, p);
      assert.equal(r.headers.get('cache-control'), cache, p);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
      // Revalidation is cheap.
      const again = await get(p, { headers: { 'If-None-Match': r.headers.get('etag') } });
      assert.equal(again.status, 304, p);
    }
    assert.match((await get('/chat')).headers.get('content-security-policy'), /script-src 'self'/);
    assert.match(await (await get('/js/herald.js')).text(), /export class Herald/);
    for (const p of ['/nope', '/js/', '/chat.html', '/index.html', '/static/index.html', '/chat/']) {
      assert.equal((await get(p)).status, 404, p);
    }
    assert.equal((await get('/chat', { method: 'POST' })).status, 405);
  });

  test('no page logged an error', () => {
    for (const p of open) assert.deepEqual(unexpectedProblems(p), [], p.url());
  });
});
