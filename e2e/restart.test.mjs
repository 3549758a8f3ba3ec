// Herald goes away and comes back on the same port: open chat pages show
// that they are reconnecting, then carry on by themselves, no reload.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, screenshot, unexpectedProblems } from './lib/browser.mjs';
import { joinChat, online, send, texts } from './lib/chat.mjs';
import { startHerald } from './lib/herald.mjs';
import { eventually } from './lib/wait.mjs';

let browser;
let server;

before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  await server?.kill();
});

async function recovered(page) {
  await page.locator('#status[data-state="connected"]').waitFor({ timeout: 20000 });
  await page.locator('#banner').waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page was not reloaded');
}

test('herald restarts: the page shows reconnecting, then recovers without a reload', async () => {
  server = await startHerald();
  const { port } = server;
  const room = 'restart';
  const ann = await joinChat(browser, server.url, 'Ann', room);
  const bob = await joinChat(browser, server.url, 'Bob', room);
  for (const p of [ann, bob]) await p.evaluate(() => { window.sameDocument = true; });
  await send(ann, 'before the restart');
  await eventually(async () => assert.deepEqual(await texts(bob), ['before the restart']));

  // A graceful restart (SIGTERM: close 1001), then a crash (SIGKILL: 1006).
  for (const [how, stop] of [['graceful', (s) => s.stop()], ['crash', (s) => s.kill()]]) {
    await stop(server);
    for (const p of [ann, bob]) {
      await p.locator('#status[data-state="reconnecting"]').waitFor();
      await p.locator('#banner', { hasText: 'Reconnecting' }).waitFor();
    }
    if (how === 'graceful') await screenshot(ann, 'chat-reconnecting-desktop');
    // The new process has a new token secret (dev mode): the pages fetch
    // fresh tokens by themselves.
    server = await startHerald({ port });
    for (const p of [ann, bob]) await recovered(p);
    for (const p of [ann, bob]) await eventually(async () => assert.deepEqual(await online(p), ['Ann', 'Bob']));
    await send(bob, `after the ${how} restart`);
    await eventually(async () => assert.ok((await texts(ann)).includes(`after the ${how} restart`)));
  }
  // What was on screen stays; the pages say that some may be missing.
  const seen = await texts(ann);
  assert.deepEqual(seen, ['before the restart', 'after the graceful restart', 'after the crash restart']);
  assert.equal(await ann.locator('#messages .notice', { hasText: 'Reconnected' }).count(), 2);
  for (const p of [ann, bob]) assert.deepEqual(unexpectedProblems(p), []);
});
