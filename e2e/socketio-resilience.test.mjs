// Herald's Socket.IO server when things go wrong: the server goes away and
// comes back (the client reconnects), a transport drops (connection state
// recovery brings back the socket and what it missed), clients send
// malformed packets or too much (only their own connection ends), a peer
// stops answering pings. Raw Engine.IO frames (ws, fetch) where
// socket.io-client would not send them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { unique, waitFor } from './lib/herald.mjs';
import { Clients, ack, api, connected, next, rawEngine, rawSocket, record, startServer } from './lib/sio.mjs';

const MAX_PAYLOAD = 20000;
let srv;
let clients;

before(async () => {
  srv = await startServer({ args: ['-max-payload', String(MAX_PAYLOAD), '-ping-interval', '500ms', '-ping-timeout', '1s', '-connect-timeout', '1s'] });
  clients = new Clients(srv.url);
});
afterEach(() => clients.closeAll());
after(async () => {
  clients?.closeAll();
  await srv?.stop();
});

const pause = (ms = 150) => new Promise((r) => setTimeout(r, ms));

async function watcher(c = clients) {
  const w = await c.connect('/');
  await ack(w, 'watch');
  return record(w);
}

/** Waits until the watcher has heard that socket id disconnected; returns the reason. */
async function disconnectedOnServer(w, id, ms = 5000) {
  await w.until((l) => l.some((e) => e.event === 'peer-disconnected' && e.args[0] === id), ms, `the server to drop ${id}`);
  return w.of('peer-disconnected').find((a) => a[0] === id)[2];
}

describe('reconnection', () => {
  test('the server goes away (graceful shutdown, then a crash) and comes back: clients reconnect by themselves', async () => {
    let own = await startServer();
    const { port } = own;
    const c = new Clients(own.url);
    try {
      const ws = await c.connect('/', { transports: ['websocket'] });
      const poll = await c.connect('/', { transports: ['polling'] });
      const up = c.socket('/');
      await connected(up);
      await waitFor(() => up.io.engine.transport.name === 'websocket', { what: 'the upgrade' });
      const socks = [ws, poll, up];
      const logs = socks.map(record);
      for (const [round, stop] of [[1, (s) => s.stop()], [2, (s) => s.kill()]]) {
        const ids = socks.map((s) => s.id);
        await stop(own);
        for (const l of logs) await l.count('disconnect', round, 10000);
        for (const [i, l] of logs.entries()) {
          const [reason] = l.of('disconnect').at(-1);
          // A parked poll may get the close packet or find the server gone.
          assert.ok(['transport close', 'transport error'].includes(reason), `socket ${i}, round ${round}: ${reason}`);
        }
        own = await startServer({ port });
        for (const l of logs) await l.count('connect', round, 15000);
        for (const [i, s] of socks.entries()) {
          assert.equal(s.connected, true);
          assert.notEqual(s.id, ids[i], 'a new server knows nothing of the old socket');
          assert.equal(s.recovered, false);
          assert.deepEqual(await ack(s, 'echo', round, i), [[round, i]]);
        }
      }
    } finally {
      c.closeAll();
      await own.stop();
    }
  });
});

describe('connection state recovery', () => {
  for (const transports of [['websocket'], ['polling']]) {
    test(`after a forced transport close (${transports[0]}), the socket comes back with its id, rooms and the events sent meanwhile, in order`, async () => {
      const room = unique('recover');
      const w = await watcher();
      const other = await clients.connect('/');
      const s = await clients.connect('/', { transports, reconnection: false });
      const log = record(s);
      await ack(s, 'join', room);
      await ack(s, 'set-context', { kept: 'yes' });
      await api(srv.url, '/api/publish', { channel: room, event: 'n', data: 0 });
      await log.count('n', 1); // the client now has an offset to come back with
      const id = s.id;

      s.io.engine.close(); // the transport drops; the server keeps the socket
      assert.equal(await disconnectedOnServer(w, id), 'transport close');

      // Meanwhile: the server's own emit to the socket, the API, another
      // socket's broadcast. (The direct emit goes first: room broadcasts
      // are fanned out asynchronously and could overtake it.)
      assert.deepEqual(await ack(other, 'emit-to', id, { to: 'you' }), [true], 'the server still has the socket');
      await api(srv.url, '/api/publish', { channel: room, event: 'n', data: 1 });
      other.emit('to-room', room, { from: 'other' });
      await ack(other, 'echo'); // "to-room" has run
      await api(srv.url, '/api/publish', { channel: room, event: 'n', data: 2 });
      await pause(50);

      s.connect();
      await connected(s);
      assert.equal(s.recovered, true);
      assert.equal(s.id, id);
      await log.count('n', 3);
      await log.count('room-msg', 1);
      await log.count('direct', 1);
      const events = log.filter((e) => ['n', 'room-msg', 'direct'].includes(e.event));
      assert.deepEqual(events.map((e) => [e.event, e.args[0]]),
        [['n', 0], ['direct', { to: 'you' }], ['n', 1], ['room-msg', { from: 'other' }], ['n', 2]]);
      const offsets = events.map((e) => parseInt(e.args.at(-1), 36));
      assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), 'offsets in order');

      const [me] = await ack(s, 'whoami');
      assert.equal(me.recovered, true);
      assert.deepEqual(me.rooms, [id, room]);
      assert.deepEqual(me.context, { kept: 'yes' });
      // Live again: new events arrive as before.
      await api(srv.url, '/api/publish', { channel: room, event: 'n', data: 3 });
      await log.count('n', 4);
      assert.equal(log.of('n').at(-1)[0], 3);
    });
  }

  test('a client that presents an unknown session gets a fresh socket', async () => {
    const s = await clients.connect('/', { auth: { pid: 'no-such-session', offset: '1' } });
    assert.equal(s.recovered, false);
    const [me] = await ack(s, 'whoami');
    assert.equal(me.recovered, false);
    assert.deepEqual(me.rooms, [s.id]);
  });

  test('after a server namespace disconnect the client does not recover: a new socket', async () => {
    const s = await clients.connect('/', { reconnection: false });
    s.emit('emit-n', 'n', 1);
    await next(s, 'n');
    const id = s.id;
    const gone = next(s, 'disconnect');
    await ack(s, 'server-disconnect');
    assert.equal((await gone)[0], 'io server disconnect');
    s.connect();
    await connected(s);
    assert.equal(s.recovered, false);
    assert.notEqual(s.id, id);
  });
});

describe('bad input', () => {
  // Each frame is sent on its own raw connection that joined "/".
  const malformed = {
    'invalid JSON': '42["unterminated',
    'unknown Socket.IO packet type': '4x',
    'EVENT whose payload is not an array': '42{"not":"an array"}',
    'EVENT with an empty array': '42[]',
    'EVENT named with a reserved name': '42["connect"]',
    'EVENT with garbage before the payload': '42abc["x"]',
    'EVENT for a namespace not joined': '42/chat,["x"]',
    'a second CONNECT to "/"': '40',
    'CONNECT with a non-object payload': '40/chat,"str"',
    'ACK without an id or payload': '43',
    'BINARY_EVENT whose placeholder is out of range': '451-["x",{"_placeholder":true,"num":3}]',
    'unknown Engine.IO packet type': '9nope',
    'an empty frame': '',
  };

  test('malformed packets close only the connection they came on; other clients keep working', async (t) => {
    const w = await watcher();
    const healthy = await clients.connect('/', { transports: ['websocket'] });
    const healthyPoll = await clients.connect('/', { transports: ['polling'] });
    const healthyRaw = await rawSocket(srv.url);
    try {
      const cases = [...Object.entries(malformed), ['a binary frame with no binary packet pending', Buffer.from([1, 2, 3])]];
      for (const [what, frame] of cases) {
        const bad = await rawSocket(srv.url);
        bad.send(frame);
        const closed = await Promise.race([bad.closed, pause(3000).then(() => null)]);
        assert.ok(closed, `${what}: the connection was not closed`);
        bad.close();
        t.diagnostic(`${what}: close ${closed.code}, server reason "${await disconnectedOnServer(w, bad.sid)}"`);
      }
      assert.deepEqual(await ack(healthy, 'echo', 'fine'), [['fine']]);
      assert.deepEqual(await ack(healthyPoll, 'echo', 'fine'), [['fine']]);
      healthyRaw.send('42["echo","raw",1]');
      const n = healthyRaw.messages.length;
      healthyRaw.send('421["echo","raw"]');
      await healthyRaw.until((m) => m.slice(n).includes('431[["raw"]]'), 5000, 'the raw connection\'s ack');
      assert.equal(healthyRaw.isClosed, false);
    } finally {
      healthyRaw.close();
    }
  });

  test('bad Engine.IO handshakes get the reference\'s error codes', async () => {
    const cases = [
      ['EIO=3&transport=polling', 'GET', { code: 5, message: 'Unsupported protocol version' }],
      ['transport=polling', 'GET', { code: 5, message: 'Unsupported protocol version' }],
      ['EIO=4&transport=flash', 'GET', { code: 0, message: 'Transport unknown' }],
      ['EIO=4&transport=polling&sid=nope', 'GET', { code: 1, message: 'Session ID unknown' }],
      ['EIO=4&transport=polling', 'PUT', { code: 2, message: 'Bad handshake method' }],
      ['EIO=4&transport=websocket', 'GET', { code: 3, message: 'Bad request' }], // no Upgrade header
    ];
    for (const [query, method, body] of cases) {
      const r = await fetch(`${srv.url}/socket.io/?${query}`, { method });
      assert.equal(r.status, 400, query);
      assert.deepEqual(await r.json(), body, query);
    }
  });

  test(`an oversized polling POST (over max_payload ${MAX_PAYLOAD}) is answered 413; others keep working`, async () => {
    const healthy = await clients.connect('/', { transports: ['polling'] });
    const open = await (await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`)).text();
    assert.equal(open[0], '0');
    const { sid, ...advertised } = JSON.parse(open.slice(1));
    assert.deepEqual(advertised, { upgrades: ['websocket'], pingInterval: 500, pingTimeout: 1000, maxPayload: MAX_PAYLOAD },
      'the handshake advertises the server\'s settings');
    const url = `${srv.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    const ok = await fetch(url, { method: 'POST', body: '40' });
    assert.equal(ok.status, 200);
    const big = await fetch(url, { method: 'POST', body: `42["echo","${'x'.repeat(MAX_PAYLOAD)}"]` });
    assert.equal(big.status, 413);
    await big.arrayBuffer();
    // The session is over.
    const after = await fetch(url);
    assert.equal(after.status, 400);
    assert.deepEqual(await after.json(), { code: 1, message: 'Session ID unknown' });
    assert.deepEqual(await ack(healthy, 'echo', 'fine'), [['fine']]);
  });

  test(`an oversized WebSocket message (over max_payload ${MAX_PAYLOAD}) closes that connection; others keep working`, async () => {
    const healthy = await clients.connect('/', { transports: ['websocket'] });
    const w = await watcher();
    const bad = await rawSocket(srv.url);
    bad.send(`42["echo","${'x'.repeat(MAX_PAYLOAD)}"]`);
    const { code } = await bad.closed;
    assert.equal(code, 1009);
    assert.equal(await disconnectedOnServer(w, bad.sid), 'transport error');

    // The same through socket.io-client: the socket loses its transport.
    const s = await clients.connect('/', { transports: ['websocket'], reconnection: false });
    const gone = next(s, 'disconnect');
    s.emit('echo', 'y'.repeat(MAX_PAYLOAD));
    assert.equal((await gone)[0], 'transport close');
    // A message just under the limit is fine.
    assert.deepEqual(await ack(healthy, 'echo', 'z'.repeat(MAX_PAYLOAD - 100)), [['z'.repeat(MAX_PAYLOAD - 100)]]);
  });

  test('a connection that joins no namespace is closed after connect_timeout', async () => {
    const started = Date.now(); // before the handshake, which starts the server's timer
    const raw = await rawEngine(srv.url);
    await raw.closed;
    const took = Date.now() - started;
    assert.ok(took >= 800 && took < 4000, `closed after ${took}ms (connect_timeout 1s)`);
  });

  test('a peer that stops answering pings is dropped with "ping timeout"', async () => {
    const w = await watcher();
    const raw = await rawSocket(srv.url, '/', { pong: false });
    const started = Date.now();
    assert.equal(await disconnectedOnServer(w, raw.sid), 'ping timeout');
    const took = Date.now() - started;
    // ping_interval 500ms + ping_timeout 1s, with some slack.
    assert.ok(took < 4000, `dropped after ${took}ms`);
    await raw.closed;
  });
});

describe('connection state recovery from the channel streams', () => {
  test('with the streams on disk, a socket outlives a graceful restart: same id, rooms, and the broadcasts sent while it was away, beyond recovery_events', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'herald-sio-'));
    const args = ['-data-dir', dir, '-recovery-events', '5'];
    let own = await startServer({ args });
    const { port } = own;
    const c = new Clients(own.url);
    try {
      const s = await c.connect('/', { transports: ['websocket'], reconnection: false });
      const log = record(s);
      const room = unique('feed:restart');
      await ack(s, 'join', room);
      await api(own.url, '/api/publish', { channel: room, event: 'n', data: 0 });
      await log.count('n', 1); // the client now has an offset to come back with
      const id = s.id;

      await own.stop(); // graceful: the node saves the socket in data_dir
      await log.count('disconnect', 1, 10000);
      own = await startServer({ args, port });
      for (let i = 1; i <= 20; i++) {
        const r = await api(own.url, '/api/publish', { channel: room, event: 'n', data: i });
        assert.equal(r.status, 200, r.text);
      }

      s.connect();
      await connected(s);
      assert.equal(s.recovered, true);
      assert.equal(s.id, id);
      await log.count('n', 21);
      assert.deepEqual(log.of('n').map((a) => a[0]), [...Array(21).keys()]);
      const [me] = await ack(s, 'whoami');
      assert.equal(me.recovered, true);
      assert.deepEqual(me.rooms, [id, room]);
      await api(own.url, '/api/publish', { channel: room, event: 'n', data: 21 });
      await log.count('n', 22);
      await pause(100);
      assert.deepEqual(log.of('n').map((a) => a[0]), [...Array(22).keys()], 'no duplicate after the replay');
    } finally {
      c.closeAll();
      await own.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
