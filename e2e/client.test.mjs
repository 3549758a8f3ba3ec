// herald.js, the browser client, against a real herald: framing, replies
// and errors, push handlers, close codes, token refresh, resubscription
// and resuming with since, dropping duplicates, backoff. Each test runs in a page served by herald and
// imports /js/herald.js, as an application would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, openPage, unexpectedProblems } from './lib/browser.mjs';
import { api, devToken, freePort, signToken, startHerald, unique, waitFor } from './lib/herald.mjs';

let browser;
let server;
let page;
// A resuming subscribe that missed more than this gets recovered: false.
const RECOVERY_MAX = 5;

// Waits until the server lists client in channel's presence: its subscribe
// has taken effect, even while the page holds the reply back.
async function subscribedOnServer(channel, client) {
  await waitFor(async () => {
    const r = await api(server.url, server.apiKey, 'GET', `/api/presence?channel=${encodeURIComponent(channel)}`);
    return r.body?.clients?.some((c) => c.client === client);
  }, { what: `${client} subscribed to ${channel}` });
}

before(async () => {
  // Its own: these tests sign tokens with its secret, and bound recovery.
  server = await startHerald({ env: { HERALD_HISTORY_RECOVERY_MAX: String(RECOVERY_MAX) } });
  browser = await launch();
  page = await openPage(browser);
  page.frames_ = [];
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => page.frames_.push({ dir: 'sent', data: String(f.payload) }));
    ws.on('framereceived', (f) => page.frames_.push({ dir: 'received', data: String(f.payload) }));
  });
  // A page that loads nothing else: the client on its own.
  await page.goto(server.url + '/push');
  await page.evaluate(async () => {
    window.H = await import('/js/herald.js');
    // Records a client's events, and lets a test wait for one.
    window.record = (h) => {
      const log = [];
      const waiters = [];
      for (const ev of ['state', 'connected', 'disconnected', 'error', 'push', 'resubscribed', 'gap']) {
        h.on(ev, (e) => {
          log.push({ ev, ...(e instanceof Error ? { code: e.code, message: e.message } : e) });
          for (const w of [...waiters]) if (w.test(log.at(-1))) { waiters.splice(waiters.indexOf(w), 1); w.resolve(log.at(-1)); }
        });
      }
      log.until = (test) => {
        const hit = log.find(test);
        return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ test, resolve }));
      };
      return log;
    };
    // A WebSocket that keeps every instance in window.sockets (so a test
    // can cut one) and, while window.holdReply is set, holds the next
    // subscribe reply until a publication has arrived, then delivers it
    // with that publication's position: the server subscribes, then reads
    // the stream's position for its reply, so a publication can overtake
    // the reply and be counted by it; this makes that race certain.
    window.HoldingSocket = class extends WebSocket {
      constructor(u) { super(u); window.sockets = [...(window.sockets || []), this]; }
      set onmessage(fn) {
        let held = null;
        super.onmessage = fn && ((e) => {
          const lines = String(e.data).split('\n');
          const reply = lines.find((l) => l.includes('"result":{"channel"'));
          const pub = lines.find((l) => l.includes('"type":"publication"'));
          if (window.holdReply && reply && !pub && !held) { held = e.data; window.holdReply = false; return; }
          fn(e);
          if (held && pub) {
            const p = JSON.parse(pub);
            const r = JSON.parse(held);
            Object.assign(r.result, { offset: p.offset, epoch: p.epoch });
            held = null;
            fn(new MessageEvent('message', { data: JSON.stringify(r) }));
          }
        });
      }
      get onmessage() { return super.onmessage; }
    };
    // A client subscribed to channel, which does not reconnect by itself
    // (a test calls reconnect), and what it got.
    window.resumeClient = async (channel, WS = HoldingSocket) => {
      const h = new H.Herald({ WebSocket: WS, minDelay: 60000, maxDelay: 60000 });
      const c = { h, log: record(h), pubs: [], subscribed: [], gaps: [] };
      h.subscribe(channel, {
        publication: (p) => c.pubs.push({ offset: p.offset, text: p.data.text, replayed: !!p.replayed }),
        subscribed: (e) => c.subscribed.push(e),
        gap: (e) => c.gaps.push(e),
      });
      h.connect();
      await h.getSubscription(channel).ready();
      return c;
    };
    // Cuts c's connection (close from the client side, 4000) and waits
    // until it is waiting to reconnect.
    window.cut = async (c) => {
      sockets.at(-1).close(4000, 'test cut');
      await c.log.until((e) => e.ev === 'state' && e.state === 'reconnecting');
    };
    // Reconnects c and waits for its nth subscribed event.
    window.resume = async (c, n = 2) => {
      c.h.reconnect();
      while (c.subscribed.length < n) await new Promise((r) => setTimeout(r, 20));
    };
  });
});
after(async () => {
  assert.deepEqual(unexpectedProblems(page, [/herald:/, /WebSocket connection to .* failed/]), []);
  await browser?.close();
  await server?.stop();
});

// Publishes text to channel through the HTTP API; resolves {offset, epoch, delivered}.
function publisher(channel) {
  return async (text) => {
    const r = await api(server.url, server.apiKey, 'POST', '/api/publish', { channel, data: { text } });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
}

describe('herald.js', () => {
  test('commands batched in a frame, replies matched by id, errors as {code, message}, state events', async () => {
    const room = unique('batch');
    page.frames_.length = 0;
    const r = await page.evaluate(async (room) => {
      const h = new H.Herald();
      const log = record(h);
      const subs = ['a', 'b', 'c'].map((x) => h.subscribe(`chat:${room}-${x}`));
      h.connect();
      await Promise.all(subs.map((s) => s.ready()));
      const errors = [];
      for (const bad of [() => h.publish('news', { x: 1 }), () => h.command('nope'), () => h.publish('bad channel!', 1)]) {
        try { await bad(); } catch (e) { errors.push({ name: e.name, code: e.code, message: e.message }); }
      }
      const published = await subs[0].publish({ n: 1 });
      const presence = await subs[1].presence();
      const rtt = await h.ping();
      h.disconnect();
      let offline;
      try { await h.publish(`chat:${room}-a`, 1); } catch (e) { offline = e.code; }
      return { states: log.filter((e) => e.ev === 'state').map((e) => e.state), errors, published, presence, rtt, offline, info: log.find((e) => e.ev === 'connected') };
    }, room);
    assert.deepEqual(r.states, ['connecting', 'connected', 'disconnected']);
    assert.deepEqual(r.errors.map((e) => [e.name, e.code]), [['HeraldError', 403], ['HeraldError', 404], ['HeraldError', 400]]);
    assert.ok(r.errors.every((e) => e.message.length > 0));
    assert.equal(r.published.offset, 1);
    assert.equal(r.presence.length, 1);
    assert.ok(r.rtt >= 0);
    assert.equal(r.offline, 'disconnected');
    assert.match(r.info.client, /.+-\d+/);
    // The three subscribes went out in one frame, and their replies came back in one.
    const sent = page.frames_.find((f) => f.dir === 'sent' && f.data.includes('"subscribe"'));
    assert.equal(sent.data.split('\n').length, 3);
    const replies = page.frames_.filter((f) => f.dir === 'received' && f.data.includes(room)
      && f.data.split('\n').filter(Boolean).every((l) => JSON.parse(l).id));
    assert.equal(replies[0].data.split('\n').filter(Boolean).length, 3);
  });

  test('several URLs: an endpoint that does not answer is skipped for the next', async () => {
    // Same origin (the page's connect-src is 'self'), but nothing that
    // upgrades there: as for a node that is gone, the connection fails.
    const r = await page.evaluate(async () => {
      const own = new URL('/ws', location.href).href.replace('http', 'ws');
      const h = new H.Herald({ url: [own.replace('/ws', '/no-such-endpoint'), own], minDelay: 50, maxDelay: 200 });
      const log = record(h);
      h.connect();
      const info = await log.until((e) => e.ev === 'connected');
      h.disconnect();
      return { node: info.node, url: h.url, own, failed: log.filter((e) => e.ev === 'disconnected').length };
    });
    const info = await api(server.url, server.apiKey, 'GET', '/api/info');
    assert.equal(r.node, info.body.node, 'connected to the endpoint that answers');
    assert.equal(r.url, r.own);
    assert.ok(r.failed >= 1, 'the first endpoint was tried and failed');
  });

  test('push handlers: every push, and by event', async () => {
    const user = unique('pat');
    const token = await devToken(server.url, user);
    await page.evaluate(async (token) => {
      const h = new H.Herald({ token });
      window.pushes = { all: [], alert: [] };
      h.onPush((p) => pushes.all.push(p));
      h.onPush('alert', (p) => pushes.alert.push(p));
      window.pushClient = h;
      const log = record(h);
      h.connect();
      await log.until((e) => e.ev === 'connected');
    }, token);
    for (const [event, text] of [['alert', 'one'], ['news', 'two'], ['alert', 'three']]) {
      assert.deepEqual((await api(server.url, server.apiKey, 'POST', '/api/push', { user, event, data: { text } })).body, { delivered: 1 });
    }
    const got = await page.waitForFunction(() => pushes.all.length === 3 && pushes).then((h) => h.jsonValue());
    assert.deepEqual(got.all.map((p) => `${p.event}:${p.data.text}`), ['alert:one', 'news:two', 'alert:three']);
    assert.deepEqual(got.alert.map((p) => p.data.text), ['one', 'three']);
    await page.evaluate(() => pushClient.disconnect());
  });

  test('a refused subscription reports its error and is dropped', async () => {
    const r = await page.evaluate(async () => {
      const h = new H.Herald().connect();
      const events = [];
      const sub = h.subscribe('alerts:ops', { error: (e) => events.push(['error', e.code]), unsubscribed: (e) => events.push(['unsubscribed', e.server]) });
      let ready;
      try { await sub.ready(); } catch (e) { ready = e.code; }
      const still = h.getSubscription('alerts:ops');
      h.disconnect();
      return { events, ready, still: !!still };
    });
    assert.deepEqual(r.events, [['error', 403], ['unsubscribed', true]]);
    assert.equal(r.ready, 'closed');
    assert.equal(r.still, false);
  });

  test('close 4003 (disconnected by the server) and a bad token (4001) are final', async () => {
    const user = unique('mal');
    const token = await devToken(server.url, user);
    await page.evaluate(async (token) => {
      window.c4003 = new H.Herald({ token });
      window.c4003log = record(c4003);
      c4003.connect();
      await c4003log.until((e) => e.ev === 'connected');
    }, token);
    assert.deepEqual((await api(server.url, server.apiKey, 'POST', '/api/disconnect', { user })).body, { disconnected: 1 });
    const r = await page.evaluate(async () => {
      const d = await c4003log.until((e) => e.ev === 'disconnected');
      await c4003log.until((e) => e.ev === 'state' && e.state === 'disconnected');
      const bad = new H.Herald({ token: 'not-a-token' });
      const log = record(bad);
      bad.connect();
      const d2 = await log.until((e) => e.ev === 'disconnected');
      await log.until((e) => e.ev === 'state' && e.state === 'disconnected');
      return { d, d2, state: c4003.state, states: log.filter((e) => e.ev === 'state').map((e) => e.state) };
    });
    assert.equal(r.d.code, 4003);
    assert.equal(r.d.reconnect, false);
    assert.equal(r.state, 'disconnected');
    assert.equal(r.d2.code, 4001);
    assert.equal(r.d2.reconnect, false);
    assert.deepEqual(r.states, ['connecting', 'disconnected']);
  });

  test('an expired token (4006) is replaced by calling the token function again; subscriptions come back', async () => {
    const user = unique('exp');
    const now = Math.floor(Date.now() / 1000);
    const short = signToken(server.tokenSecret, { sub: user, exp: now + 3 }); // 2 to 3 s: exp is in whole seconds
    const long = signToken(server.tokenSecret, { sub: user, exp: now + 3600 });
    const room = unique('exp');
    const r = await page.evaluate(async ({ short, long, room }) => {
      const tokens = [short, long];
      let calls = 0;
      const h = new H.Herald({ token: async () => tokens[calls++], minDelay: 100 });
      const log = record(h);
      const subscribed = [];
      h.subscribe(`chat:${room}`, { subscribed: (e) => subscribed.push(e.resubscribed) });
      h.connect();
      const d = await log.until((e) => e.ev === 'disconnected');
      await log.until((e) => e.ev === 'connected' && log.filter((x) => x.ev === 'connected').length === 2);
      await h.getSubscription(`chat:${room}`).ready();
      const presence = await h.presence(`chat:${room}`);
      h.disconnect();
      return { d, calls, subscribed, presence: presence.map((c) => c.user), states: log.filter((e) => e.ev === 'state').map((e) => e.state) };
    }, { short, long, room });
    assert.equal(r.d.code, 4006);
    assert.equal(r.d.reconnect, true);
    assert.equal(r.calls, 2);
    assert.deepEqual(r.states, ['connecting', 'connected', 'reconnecting', 'connected', 'disconnected']);
    assert.deepEqual(r.subscribed, [false, true]);
    assert.deepEqual(r.presence, [user]);
  });

  test('after a dropped connection it resubscribes with since; the server replays what it missed, in order, marked replayed', async () => {
    const channel = `chat:${unique('resume')}`;
    await page.evaluate(async (channel) => { window.rec = await resumeClient(channel); }, channel);
    const publish = publisher(channel);
    const first = await publish('live 1');
    await page.waitForFunction(() => rec.pubs.length === 1);
    await page.evaluate(() => cut(rec));
    for (const t of ['missed 2', 'missed 3', 'missed 4']) await publish(t);
    page.frames_.length = 0;
    const r = await page.evaluate(async (channel) => {
      const offsetsBefore = rec.h.lastOffsets();
      await resume(rec);
      return { offsetsBefore, subscribed: rec.subscribed[1], resubscribed: rec.log.filter((e) => e.ev === 'resubscribed') };
    }, channel);
    assert.deepEqual(r.offsetsBefore[channel], { offset: 1, epoch: first.epoch });
    const sent = page.frames_.filter((f) => f.dir === 'sent' && f.data.includes('"subscribe"')).map((f) => JSON.parse(f.data));
    assert.deepEqual(sent.map((m) => m.since), [{ offset: 1, epoch: first.epoch }], 'the resubscribe carries the last position');
    assert.equal(r.subscribed.resubscribed, true);
    assert.equal(r.subscribed.recovered, true);
    assert.equal(r.subscribed.replayed, 3);
    assert.deepEqual(r.resubscribed, [{ ev: 'resubscribed', channel, recovered: true, replayed: 3, since: { offset: 1, epoch: first.epoch }, offset: 4, epoch: first.epoch }]);
    await publish('live 5');
    const got = await page.waitForFunction(() => rec.pubs.length === 5 && rec).then((h) => h.jsonValue());
    assert.deepEqual(got.pubs, [
      { offset: 1, text: 'live 1', replayed: false },
      { offset: 2, text: 'missed 2', replayed: true },
      { offset: 3, text: 'missed 3', replayed: true },
      { offset: 4, text: 'missed 4', replayed: true },
      { offset: 5, text: 'live 5', replayed: false },
    ]);
    assert.deepEqual(got.gaps, []);
    const last = await page.evaluate((channel) => { const o = rec.h.lastOffsets()[channel]; rec.h.disconnect(); return o; }, channel);
    assert.equal(last.offset, 5);
  });

  test('a channel first published to while the client was away is replayed from its start', async () => {
    const channel = `chat:${unique('fresh')}`;
    await page.evaluate(async (channel) => {
      window.fresh = await resumeClient(channel);
      await cut(fresh);
    }, channel);
    const publish = publisher(channel);
    for (const text of ['missed 1', 'missed 2']) await publish(text);
    const r = await page.evaluate(async () => {
      await resume(fresh);
      while (fresh.pubs.length < 2) await new Promise((r) => setTimeout(r, 20));
      fresh.h.disconnect();
      return { first: fresh.subscribed[0], again: fresh.subscribed[1], pubs: fresh.pubs };
    });
    assert.equal(r.first.offset, 0, 'nothing published yet at the first subscribe');
    assert.equal(r.first.epoch, '', 'no stream yet, so no epoch');
    assert.equal(r.again.recovered, true);
    assert.equal(r.again.replayed, 2);
    assert.deepEqual(r.pubs, [
      { offset: 1, text: 'missed 1', replayed: true },
      { offset: 2, text: 'missed 2', replayed: true },
    ]);
  });

  test('more missed than the server replays: recovered false, one gap event, then the live publications', async () => {
    const channel = `chat:${unique('unrecovered')}`;
    await page.evaluate(async (channel) => { window.un = await resumeClient(channel); }, channel);
    const publish = publisher(channel);
    const first = await publish('live 1');
    await page.waitForFunction(() => un.pubs.length === 1);
    await page.evaluate(() => cut(un));
    for (let i = 2; i <= RECOVERY_MAX + 2; i++) await publish(`missed ${i}`);
    await page.evaluate(() => resume(un));
    const live = RECOVERY_MAX + 3;
    await publish(`live ${live}`);
    const got = await page.waitForFunction(() => un.pubs.length === 2 && un).then((h) => h.jsonValue());
    await page.evaluate(() => un.h.disconnect());
    assert.equal(got.subscribed[1].recovered, false);
    assert.equal(got.subscribed[1].replayed, 0);
    assert.deepEqual(got.gaps, [{
      channel, reason: 'unrecovered', recovered: false, replayed: 0, expected: 2,
      since: { offset: 1, epoch: first.epoch }, offset: live - 1, epoch: first.epoch,
    }]);
    assert.deepEqual(got.pubs, [
      { offset: 1, text: 'live 1', replayed: false },
      { offset: live, text: `live ${live}`, replayed: false },
    ]);
  });

  test('publications seen already are dropped: a repeated frame and a stale one reach the application once', async () => {
    const channel = `chat:${unique('dup')}`;
    await page.evaluate(async (channel) => {
      // Delivers every frame with a publication twice, and before each
      // new one the first publication it saw again.
      window.EchoingSocket = class extends HoldingSocket {
        set onmessage(fn) {
          let firstPub = null;
          super.onmessage = fn && ((e) => {
            const isPub = String(e.data).includes('"type":"publication"');
            if (isPub && firstPub) fn(new MessageEvent('message', { data: firstPub }));
            fn(e);
            if (!isPub) return;
            firstPub = firstPub || e.data;
            fn(e);
          });
        }
        get onmessage() { return super.onmessage; }
      };
      window.dup = await resumeClient(channel, EchoingSocket);
    }, channel);
    const publish = publisher(channel);
    for (const t of ['one', 'two', 'three']) await publish(t);
    await page.waitForFunction(() => dup.pubs.length >= 3);
    await page.evaluate(() => cut(dup));
    await publish('four');
    await page.evaluate(() => resume(dup));
    await publish('five');
    const got = await page.waitForFunction(() => dup.pubs.length >= 5 && dup).then((h) => h.jsonValue());
    await page.evaluate(() => dup.h.disconnect());
    assert.deepEqual(got.pubs.map((p) => [p.offset, p.text, p.replayed]),
      [[1, 'one', false], [2, 'two', false], [3, 'three', false], [4, 'four', true], [5, 'five', false]]);
    assert.deepEqual(got.gaps, []);
  });

  test('publications that arrive before the subscribe reply reach the application, even ones the reply counts', async () => {
    const channel = `chat:${unique('early')}`;
    await page.evaluate(async (channel) => {
      window.holdReply = true;
      const h = new H.Herald({ WebSocket: HoldingSocket });
      window.early = { h, pubs: [], subscribed: [] };
      h.subscribe(channel, {
        publication: (p) => early.pubs.push(p.data.text),
        subscribed: (e) => early.subscribed.push(e),
      });
      h.connect();
      return (await new Promise((r) => h.on('connected', r))).client;
    }, channel).then((client) => subscribedOnServer(channel, client));
    const r1 = await api(server.url, server.apiKey, 'POST', '/api/publish', { channel, data: { text: 'first' } });
    assert.equal(r1.status, 200, r1.text);
    await page.waitForFunction(() => early.subscribed.length === 1);
    const r2 = await api(server.url, server.apiKey, 'POST', '/api/publish', { channel, data: { text: 'second' } });
    assert.equal(r2.status, 200, r2.text);
    const got = await page.waitForFunction(() => early.pubs.length >= 2 && early).then((h) => h.jsonValue());
    await page.evaluate(() => early.h.disconnect());
    assert.equal(got.subscribed[0].offset, 1, 'the reply counted the publication that overtook it');
    assert.deepEqual(got.pubs, ['first', 'second']);
  });

  test('backoff doubles from minDelay up to maxDelay, with jitter', async () => {
    const r = await page.evaluate(() => {
      const h = new H.Herald({ minDelay: 500, maxDelay: 10000 });
      const range = (n) => {
        const v = Array.from({ length: 400 }, () => h.backoff(n));
        return [Math.min(...v), Math.max(...v), new Set(v).size];
      };
      return [0, 1, 3, 5, 50].map(range);
    });
    const within = ([lo, hi, distinct], min, max) => lo >= min && hi <= max && distinct > 20;
    assert.ok(within(r[0], 250, 500), `attempt 0: ${r[0]}`);
    assert.ok(within(r[1], 500, 1000), `attempt 1: ${r[1]}`);
    assert.ok(within(r[2], 2000, 4000), `attempt 3: ${r[2]}`);
    assert.ok(within(r[3], 5000, 10000), `attempt 5: ${r[3]}`);
    assert.ok(within(r[4], 5000, 10000), `attempt 50: ${r[4]}`);
  });
});

// A redis-server of the test's own that keeps nothing: killed and started
// again, it has lost every stream.
async function forgetfulRedis() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-redis-'));
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir];
  const answers = () => new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
  const r = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      r.proc = spawn('redis-server', args, { stdio: 'ignore' });
      await waitFor(answers, { what: `redis-server on ${port}` });
    },
    async kill() {
      if (r.proc.exitCode !== null || r.proc.signalCode !== null) return;
      r.proc.kill('SIGKILL');
      await once(r.proc, 'exit');
    },
  };
  await r.start();
  return r;
}

describe('herald.js when the broker loses the streams', () => {
  test('a publication in a new epoch, mid-connection, raises gap with reason "epoch"', async () => {
    const redis = await forgetfulRedis();
    const h = await startHerald({ env: { HERALD_BROKER: redis.url } });
    const p = await openPage(browser);
    try {
      await p.goto(h.url + '/push');
      const channel = `chat:${unique('epoch')}`; // a channel with history
      await p.evaluate(async (channel) => {
        const H = await import('/js/herald.js');
        window.got = { pubs: [], gaps: [] };
        const c = new H.Herald();
        c.subscribe(channel, {
          publication: (x) => got.pubs.push({ offset: x.offset, epoch: x.epoch }),
          gap: (e) => got.gaps.push(e),
        });
        c.connect();
        await c.getSubscription(channel).ready();
      }, channel);
      const publish = (text) => api(h.url, h.apiKey, 'POST', '/api/publish', { channel, data: { text } });
      for (const text of ['one', 'two']) assert.equal((await publish(text)).status, 200);
      await p.waitForFunction(() => got.pubs.length === 2);
      const before = await p.evaluate(() => got.pubs[1]);

      await redis.kill();
      await redis.start();
      let r;
      await waitFor(async () => (r = await publish('three')).status === 200, { timeout: 20000, what: 'a publish after Redis came back' });
      assert.equal(r.body.offset, 1, 'the stream started again');
      await p.waitForFunction(() => got.pubs.length === 3);
      const got = await p.evaluate(() => got);
      assert.notEqual(got.pubs[2].epoch, before.epoch);
      assert.deepEqual(got.gaps, [{ channel, reason: 'epoch', since: before, offset: 1, epoch: got.pubs[2].epoch }]);
    } finally {
      await p.close();
      await h.stop();
      await redis.kill();
    }
  });
});
