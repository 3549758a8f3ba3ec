// Herald's Socket.IO server driven by the official socket.io-client 4.8.4
// (Node), against e2e/sioserver: namespaces, auth, events and acks both
// ways, binary, the three transport setups, rooms and broadcasts, and the
// hub shared with herald's own protocol and HTTP API.
//
// sioserver has connection state recovery on, so like the reference
// server it appends a recovery offset to every event that is neither
// acknowledged nor volatile: untag() checks and strips it.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { Manager } from 'socket.io-client';
import { signToken, unique, waitFor } from './lib/herald.mjs';
import { Clients, ack, api, connected, heraldClient, next, record, sioToken, startServer, within } from './lib/sio.mjs';

let srv;
let clients;

before(async () => {
  srv = await startServer({ args: ['-max-payload', '100000'] });
  clients = new Clients(srv.url);
});
afterEach(() => clients.closeAll());
after(async () => {
  clients?.closeAll();
  await srv?.stop();
});

/** The event's arguments without the recovery offset the server appends. */
function untag(args) {
  assert.ok(args.length > 0, 'an event with no arguments has no offset');
  assert.match(args.at(-1), /^[0-9a-z]+$/, `the last argument is a recovery offset: ${JSON.stringify(args)}`);
  return args.slice(0, -1);
}

/** For negative checks only: gives stray events time to show up. */
const pause = (ms = 150) => new Promise((r) => setTimeout(r, ms));

/** A socket in room "watchers", which hears of other sockets' disconnects and errors. */
async function watcher() {
  const w = await clients.connect('/');
  await ack(w, 'watch');
  return record(w);
}

describe('namespaces', () => {
  test('default namespace "/": connected, with an id, and the server sees the same socket', async () => {
    const s = await clients.connect('/', { query: { tag: 'e2e' } });
    assert.equal(s.connected, true);
    assert.match(s.id, /^[A-Za-z0-9_-]{20}$/);
    const [me] = await ack(s, 'whoami');
    assert.deepEqual({ ...me, context: undefined },
      { id: s.id, namespace: '/', user: '', rooms: [s.id], recovered: false, auth: {}, query: 'e2e', context: undefined });
  });

  test('custom namespace "/chat": its own socket, multiplexed on the connection of "/"', async () => {
    const w = await watcher();
    const mgr = new Manager(srv.url, { reconnection: false });
    const root = mgr.socket('/');
    const chat = mgr.socket('/chat');
    clients.sockets.add(root).add(chat);
    await Promise.all([connected(root), connected(chat)]);
    assert.equal(root.io.engine, chat.io.engine, 'one Engine.IO connection');
    assert.notEqual(root.id, chat.id);
    const [me] = await ack(chat, 'whoami');
    assert.equal(me.id, chat.id);
    assert.equal(me.namespace, '/chat');
    assert.deepEqual(await ack(chat, 'echo', 'in chat'), [['in chat']]);

    // Leaving "/chat" leaves "/" and the connection as they were.
    const chatID = chat.id;
    chat.disconnect();
    await w.until((l) => l.some((e) => e.event === 'peer-disconnected' && e.args[0] === chatID));
    assert.deepEqual(untag(w.of('peer-disconnected').find((a) => a[0] === chatID)), [chatID, '/chat', 'client namespace disconnect']);
    assert.deepEqual(await ack(root, 'echo', 'still here'), [['still here']]);
    assert.equal(mgr.engine.readyState, 'open');
  });

  test('dynamic namespace: a name matching ^/dyn-[a-z]+$ is admitted', async () => {
    const a = await clients.connect('/dyn-abc');
    const b = await clients.connect('/dyn-xyz');
    assert.match(a.id, /^[A-Za-z0-9_-]{20}$/);
    assert.notEqual(a.id, b.id);
    assert.equal(a.nsp, '/dyn-abc');
  });

  test('unknown namespaces are refused with "Invalid namespace"; the connection serves the others', async () => {
    for (const nsp of ['/nowhere', '/dyn-123', '/DYN-abc', '/dyn-abc/x']) {
      const s = clients.socket(nsp, { reconnection: false });
      const [err] = await next(s, 'connect_error');
      assert.equal(err.message, 'Invalid namespace', nsp);
      assert.equal(err.data, undefined);
      assert.equal(s.connected, false);
      assert.equal(s.active, false, 'a refused socket does not retry');
    }
    const mgr = new Manager(srv.url, { reconnection: false });
    const root = mgr.socket('/');
    const bad = mgr.socket('/nowhere');
    clients.sockets.add(root).add(bad);
    await connected(root);
    await next(bad, 'connect_error');
    assert.deepEqual(await ack(root, 'echo', 1), [[1]]);
  });
});

describe('auth', () => {
  test('a valid token is accepted: the socket is the token\'s user, on "/" and on "/admin"', async () => {
    const token = sioToken('alice');
    const s = await clients.connect('/', { auth: { token } });
    const a = await clients.connect('/admin', { auth: { token } });
    for (const [sock, nsp] of [[s, '/'], [a, '/admin']]) {
      const [me] = await ack(sock, 'whoami');
      assert.equal(me.user, 'alice');
      assert.equal(me.namespace, nsp);
      assert.deepEqual(me.auth, { token });
    }
  });

  test('refusals are connect_error with the message and data: middleware, banned user, bad and expired tokens', async () => {
    const refused = async (nsp, auth) => {
      const s = clients.socket(nsp, { auth, reconnection: false });
      const [err] = await next(s, 'connect_error');
      assert.equal(s.connected, false);
      return { s, message: err.message, data: err.data };
    };
    const noToken = await refused('/admin', {});
    assert.deepEqual({ message: noToken.message, data: noToken.data }, { message: 'admin needs a token', data: { code: 'NO_TOKEN' } });
    const banned = await refused('/admin', { token: sioToken('mallory') });
    assert.deepEqual({ message: banned.message, data: banned.data }, { message: 'banned', data: { code: 'BANNED', user: 'mallory' } });
    const forged = await refused('/', { token: signToken('not-the-secret', { sub: 'alice' }) });
    assert.deepEqual(forged.data, { code: 4001 });
    assert.match(forged.message, /token/i);
    const expired = await refused('/', { token: sioToken('alice', { exp: Math.floor(Date.now() / 1000) - 600 }) });
    assert.deepEqual(expired.data, { code: 4001 });
    assert.match(expired.message, /expired/);

    // As with the reference, the client may fix its auth and try again.
    noToken.s.auth = { token: sioToken('bob') };
    noToken.s.connect();
    await connected(noToken.s);
    assert.equal((await ack(noToken.s, 'whoami'))[0].user, 'bob');
  });
});

describe('events and acknowledgements', () => {
  test('events both ways, in order, with any JSON and Unicode', async () => {
    const s = await clients.connect('/');
    const text = 'héllo ✓ 😀 \u2028 "quoted" \\ </script>';
    s.emit('echo-event', 'back', 1, text, { three: [3, null, true] }, null);
    assert.deepEqual(untag(await next(s, 'back')), [1, text, { three: [3, null, true] }, null]);

    const log = record(s);
    s.emit('emit-n', 'tick', 50);
    await log.count('tick', 50);
    const ticks = log.of('tick');
    assert.deepEqual(ticks.map((a) => a[0]), [...Array(50).keys()]);
    const offsets = ticks.map((a) => parseInt(a[1], 36));
    assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `offsets increase: ${offsets}`);
  });

  test('client → server acknowledgement carries the handler\'s results', async () => {
    const s = await clients.connect('/');
    assert.deepEqual(await ack(s, 'echo', 1, 'two', { three: 3 }, [4], null, false),
      [[1, 'two', { three: 3 }, [4], null, false]]);
    assert.deepEqual(await s.emitWithAck('echo'), []);
    const room = unique('ack-room');
    assert.deepEqual(await ack(s, 'join', room), [[s.id, room], null], 'several results: several ack arguments');
  });

  test('server → client acknowledgement: EmitWithAck gets the client\'s answer', async () => {
    const s = await clients.connect('/');
    let seen;
    s.on('question', (...args) => {
      seen = args;
      args.at(-1)({ heard: args[0] }, 42);
    });
    assert.deepEqual(await ack(s, 'ask', 'ready?'), [[{ heard: 'ready?' }, 42]]);
    assert.equal(seen.length, 2, 'an acknowledged event carries no recovery offset');
    assert.equal(typeof seen[1], 'function');
    s.emit('ask-later', 'and now?', 2000);
    assert.deepEqual(untag(await next(s, 'ask-result')), [{ answer: { heard: 'and now?' } }]);
  });

  test('client ack timeout: socket.timeout(ms).emitWithAck rejects when the handler has not answered', async () => {
    const s = await clients.connect('/');
    const started = Date.now();
    await assert.rejects(s.timeout(200).emitWithAck('slow', 2000), { message: 'operation has timed out' });
    assert.ok(Date.now() - started < 1800, 'rejected at the timeout, not when the answer came');
    // The late answer is dropped; the socket carries on (its events run in order, after "slow").
    assert.deepEqual(await ack(s, 'echo', 'after'), [['after']]);
  });

  test('an event no handler listens to is not acknowledged: the client times out (as with the reference)', async () => {
    const s = await clients.connect('/');
    await assert.rejects(s.timeout(500).emitWithAck('nobody-listens', 1), { message: 'operation has timed out' });
  });

  test('server ack timeout: EmitWithAck to a client that does not answer fails on the server', async () => {
    const s = await clients.connect('/');
    s.on('question', () => { /* never calls the ack */ });
    s.emit('ask-later', 'anyone?', 300);
    const [result] = untag(await next(s, 'ask-result'));
    assert.match(result.error, /operation has timed out/);
    const [[sync]] = await ack(s, 'ask', 'still there?', 300);
    assert.match(sync.error, /operation has timed out/);
  });
});

describe('binary', () => {
  test('client → server: several attachments in one event, and a binary acknowledgement', async () => {
    const s = await clients.connect('/');
    const [label, all, n] = await ack(s, 'concat', 'L', Buffer.from([1]), new Uint8Array([2, 3]), new Uint8Array([4, 5, 6]).buffer);
    assert.equal(label, 'L');
    assert.ok(Buffer.isBuffer(all));
    assert.deepEqual([...all], [1, 2, 3, 4, 5, 6]);
    assert.equal(n, 6);

    const big = Buffer.alloc(60000, 7);
    const [[a, text, b, empty]] = await ack(s, 'echo', Buffer.from('first'), 'between', big, Buffer.alloc(0));
    assert.equal(String(a), 'first');
    assert.equal(text, 'between');
    assert.ok(big.equals(b));
    assert.equal(empty.length, 0);
  });

  test('server → client: one event with several attachments, top-level and nested', async () => {
    const s = await clients.connect('/');
    s.emit('files');
    const [a, text, empty, obj] = untag(await next(s, 'files'));
    assert.deepEqual([...a], [1, 2, 3]);
    assert.equal(text, 'between');
    assert.ok(Buffer.isBuffer(empty) && empty.length === 0);
    assert.deepEqual([...obj.nested], [4, 5]);
    assert.deepEqual([...obj.list[0]], [6]);
    assert.equal(obj.list[1], 'x');
    assert.deepEqual([...obj.list[2]], [7, 8, 9]);
  });

  test('binary nested in an object reaches a typed Go handler (the reference rebuilds nested attachments)', async () => {
    const s = await clients.connect('/');
    assert.deepEqual(await s.timeout(2000).emitWithAck('upload', { name: 'a.bin', data: Buffer.from([1, 2, 3]) }), 'a.bin');
  });

  test('an object with a nested Buffer, passed through a handler as an Arg, comes back intact', async () => {
    const s = await clients.connect('/');
    const [[obj, top]] = await ack(s, 'echo', { nested: Buffer.from([9]) }, Buffer.from([1]));
    assert.deepEqual([...top], [1]);
    assert.deepEqual([...obj.nested], [9]);
  });

  test('binary acknowledgement from the client to the server\'s EmitWithAck', async () => {
    const s = await clients.connect('/');
    s.on('question', (q, cb) => cb(Buffer.from(`answer to ${q}`), 'and text'));
    const [[bin, text]] = await ack(s, 'ask', 'bytes?');
    assert.ok(Buffer.isBuffer(bin));
    assert.equal(String(bin), 'answer to bytes?');
    assert.equal(text, 'and text');
  });
});

describe('transports', () => {
  /** Events, acks both ways and binary over whatever transport s uses. */
  async function exchange(s) {
    const log = record(s);
    s.on('question', (q, cb) => cb(`${q}!`));
    assert.deepEqual(await ack(s, 'echo', 'text', Buffer.from([1, 2])), [['text', Buffer.from([1, 2])]]);
    assert.deepEqual(await ack(s, 'ask', 'hey'), [['hey!']]);
    s.emit('emit-n', 'tick', 20);
    s.emit('files');
    await log.count('tick', 20);
    await log.count('files', 1);
    assert.deepEqual(log.of('tick').map((a) => a[0]), [...Array(20).keys()]);
    const long = 'x'.repeat(30000);
    assert.deepEqual(await ack(s, 'echo', long), [[long]]);
  }

  test('polling-only client (transports: ["polling"]) never upgrades', async () => {
    const s = await clients.connect('/', { transports: ['polling'] });
    assert.equal(s.io.engine.transport.name, 'polling');
    await exchange(s);
    assert.equal(s.io.engine.transport.name, 'polling');
  });

  test('websocket-only client (transports: ["websocket"]) uses WebSocket from the first request', async () => {
    const s = clients.socket('/', { transports: ['websocket'] });
    const first = new Promise((resolve) => s.io.once('open', () => resolve(s.io.engine.transport.name)));
    await connected(s);
    assert.equal(await first, 'websocket');
    await exchange(s);
    assert.equal(s.io.engine.transport.name, 'websocket');
  });

  test('upgrade: a default client starts on polling, moves to websocket, and nothing is lost or reordered', async () => {
    const s = clients.socket('/');
    const first = new Promise((resolve) => s.io.once('open', () => resolve(s.io.engine.transport.name)));
    const log = record(s);
    await connected(s);
    assert.equal(await first, 'polling');
    // Traffic both ways while the upgrade is under way.
    s.emit('emit-n', 'tick', 300);
    const acks = Promise.all([...Array(30).keys()].map((i) => ack(s, 'echo', i)));
    await waitFor(() => s.io.engine.transport.name === 'websocket', { timeout: 10000, what: 'the upgrade to websocket' });
    assert.deepEqual(await acks, [...Array(30).keys()].map((i) => [[i]]));
    await log.count('tick', 300);
    assert.deepEqual(log.of('tick').map((a) => a[0]), [...Array(300).keys()]);
    await exchange(s);
    assert.equal(s.io.engine.transport.name, 'websocket');
  });
});

describe('rooms and broadcasts', () => {
  test('join and leave: a socket\'s broadcast reaches the room\'s other members, not the sender nor outsiders', async () => {
    const room = unique('room');
    const [a, b, d, c] = await Promise.all([0, 1, 2, 3].map(() => clients.connect('/')));
    const [la, lb, ld, lc] = [a, b, d, c].map(record);
    for (const s of [a, b, d]) {
      const [rooms, err] = await ack(s, 'join', room);
      assert.deepEqual(rooms, [s.id, room]);
      assert.equal(err, null);
    }
    assert.deepEqual(await ack(a, 'room-len', room), [3]);

    a.emit('to-room', room, { n: 1 });
    await lb.count('room-msg', 1);
    await ld.count('room-msg', 1);
    assert.deepEqual(untag(lb.of('room-msg')[0]), [{ n: 1 }, a.id]);
    await pause();
    assert.equal(la.of('room-msg').length, 0, 'the sender is left out');
    assert.equal(lc.of('room-msg').length, 0, 'outsiders get nothing');

    assert.deepEqual(await ack(b, 'leave', room), [[b.id], null]);
    assert.deepEqual(await ack(a, 'room-len', room), [2]);
    a.emit('to-room', room, { n: 2 });
    await ld.count('room-msg', 2);
    await pause();
    assert.equal(lb.of('room-msg').length, 1, 'a socket that left gets nothing more');
  });

  test('broadcast with except: sockets in the except rooms (or with those ids) are left out', async () => {
    const room = unique('room');
    const vip = unique('vip');
    const socks = await Promise.all([0, 1, 2, 3].map(() => clients.connect('/')));
    const [a, b, c, d] = socks;
    const logs = socks.map(record); // a, b, c, d
    for (const s of socks) await ack(s, 'join', room);
    await ack(c, 'join', vip);
    // From the server (sender included), except room vip and socket d.
    a.emit('to-room', room, { n: 1 }, { includeSelf: true, except: [vip, d.id] });
    await logs[0].count('room-msg', 1);
    await logs[1].count('room-msg', 1);
    await pause();
    assert.equal(logs[2].of('room-msg').length, 0, 'in an except room');
    assert.equal(logs[3].of('room-msg').length, 0, 'its own id room is excepted');
    assert.deepEqual(untag(logs[0].of('room-msg')[0]), [{ n: 1 }, a.id]);
    // From b: b itself and vip left out.
    b.emit('to-room', room, { n: 2 }, { except: [vip] });
    await logs[0].count('room-msg', 2);
    await logs[3].count('room-msg', 1);
    await pause();
    assert.equal(logs[1].of('room-msg').length, 1);
    assert.equal(logs[2].of('room-msg').length, 0, `${c.id} is in ${vip}`);
  });

  test('a broadcast to the namespace (socket.broadcast) reaches every other socket of it, no other namespace', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => clients.connect('/')));
    const x = await clients.connect('/chat');
    const [la, lb, lc, lx] = [a, b, c, x].map(record);
    a.emit('to-all', { all: 1 });
    await lb.count('all-msg', 1);
    await lc.count('all-msg', 1);
    assert.deepEqual(untag(lb.of('all-msg')[0]), [{ all: 1 }, a.id]);
    await pause();
    assert.equal(la.of('all-msg').length, 0);
    assert.equal(lx.of('all-msg').length, 0);
  });

  test('a socket by id: the server\'s Socket(nsp, id).Emit reaches it', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => clients.connect('/')));
    const lb = record(b);
    assert.deepEqual(await ack(a, 'emit-to', b.id, { d: 1 }), [true]);
    await lb.count('direct', 1);
    assert.deepEqual(untag(lb.of('direct')[0]), [{ d: 1 }, a.id]);
    assert.deepEqual(await ack(a, 'emit-to', 'no-such-id', { d: 2 }), [false]);
  });

  test('a broadcast to a socket\'s own id room (socket.to(id), io.to(id)) reaches that socket, as private messages do with the reference', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => clients.connect('/')));
    const lb = record(b);
    a.emit('to-room', b.id, { private: 1 });
    a.emit('to-room', b.id, { private: 2 }, { includeSelf: true });
    await lb.count('room-msg', 2, 2000);
    assert.deepEqual(lb.of('room-msg').map((m) => m[0]), [{ private: 1 }, { private: 2 }]);
  });

  test('a broadcast to several rooms reaches a socket that is in several of them once', async () => {
    const r1 = unique('r1');
    const r2 = unique('r2');
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => clients.connect('/')));
    const [lb, lc] = [b, c].map(record);
    await ack(b, 'join', r1, r2);
    await ack(c, 'join', r2);
    for (let i = 0; i < 5; i++) { // one at a time; bursts are the next test's subject
      a.emit('to-rooms', [r1, r2], i);
      await lb.count('rooms-msg', i + 1);
      await lc.count('rooms-msg', i + 1);
    }
    await pause();
    assert.deepEqual(lb.of('rooms-msg').map((x) => x[0]), [0, 1, 2, 3, 4]);
    assert.deepEqual(lc.of('rooms-msg').map((x) => x[0]), [0, 1, 2, 3, 4]);
  });

  test('a burst of broadcasts to several rooms still reaches a socket in several of them once each', async () => {
    const r1 = unique('r1');
    const r2 = unique('r2');
    const [a, b] = await Promise.all([0, 1].map(() => clients.connect('/')));
    const lb = record(b);
    await ack(b, 'join', r1, r2);
    for (let i = 0; i < 100; i++) a.emit('to-rooms', [r1, r2], i);
    await lb.count('rooms-msg', 100);
    await pause(300);
    assert.deepEqual(lb.of('rooms-msg').map((x) => x[0]).sort((x, y) => x - y), [...Array(100).keys()]);
  });

  test('one sender\'s broadcasts to different rooms reach a member of all of them in the order sent', async () => {
    const rooms = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => unique(`order${i}`));
    const [a, b] = await Promise.all([0, 1].map(() => clients.connect('/')));
    const lb = record(b);
    await ack(b, 'join', ...rooms);
    for (let i = 0; i < 200; i++) a.emit('to-room', rooms[i % rooms.length], i);
    await lb.count('room-msg', 200);
    assert.deepEqual(lb.of('room-msg').map((x) => x[0]), [...Array(200).keys()]);
  });

  test('a broadcast to a room, then a direct emit to one of its members: the member gets them in that order', async () => {
    const room = unique('order');
    const [a, b] = await Promise.all([0, 1].map(() => clients.connect('/')));
    const lb = record(b);
    await ack(b, 'join', room);
    for (let i = 0; i < 20; i++) {
      a.emit('to-room', room, `broadcast ${i}`);
      a.emit('emit-to', b.id, `direct ${i}`);
    }
    await lb.count('direct', 20);
    await lb.count('room-msg', 20);
    const got = lb.filter((e) => ['room-msg', 'direct'].includes(e.event)).map((e) => e.args[0]);
    assert.deepEqual(got, [...Array(20).keys()].flatMap((i) => [`broadcast ${i}`, `direct ${i}`]));
  });
});

describe('one hub: rooms are herald channels', () => {
  test('POST /api/publish to a room\'s channel reaches its sockets as the given event', async () => {
    const room = unique('news');
    const s = await clients.connect('/');
    const t = await clients.connect('/chat');
    const [ls, lt] = [s, t].map(record);
    await ack(s, 'join', room);
    await ack(t, 'join', room);

    const r = await api(srv.url, '/api/publish', { channel: room, event: 'headline', data: { title: 'hi' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.delivered, 1);
    await ls.count('headline', 1);
    assert.deepEqual(untag(ls.of('headline')[0]), [{ title: 'hi' }]);

    // Room R of "/chat" is channel chat:R; "message" when no event is given.
    const r2 = await api(srv.url, '/api/publish', { channel: `chat:${room}`, data: 'plain' });
    assert.equal(r2.status, 200, r2.text);
    await lt.count('message', 1);
    assert.deepEqual(untag(lt.of('message')[0]), ['plain']);
    await pause();
    assert.equal(lt.of('headline').length, 0, 'namespaces do not share rooms');
    assert.equal(ls.of('message').length, 0);
  });

  test('a herald-protocol client subscribed to the channel receives a socket\'s room broadcast', async () => {
    const room = unique('lobby');
    const h = await heraldClient(srv.url);
    try {
      const sub = await h.call({ op: 'subscribe', channel: `chat:${room}` });
      assert.ok(sub.result, JSON.stringify(sub));
      const t = await clients.connect('/chat');
      await ack(t, 'join', room);
      t.emit('to-room', room, { text: 'from socket.io' });
      await h.until((p) => p.length >= 1);
      assert.equal(h.pubs[0].channel, `chat:${room}`);
      assert.deepEqual(h.pubs[0].data, [{ text: 'from socket.io' }, t.id]);
      assert.equal(h.pubs[0].info.client, t.id);
      // From the server (io.To), with no client info.
      t.emit('to-room', room, 'server says', { includeSelf: true });
      await h.until((p) => p.length >= 2);
      assert.deepEqual(h.pubs[1].data, ['server says', t.id]);
      assert.equal(h.pubs[1].info, undefined);
    } finally {
      h.close();
    }
  });

  test('herald:publish from a socket reaches herald clients, under the channel\'s policy', async () => {
    const room = unique('lobby');
    const h = await heraldClient(srv.url);
    try {
      await h.call({ op: 'subscribe', channel: `chat:${room}` });
      const t = await clients.connect('/chat');
      const lt = record(t);
      // Channels chat:* let subscribers publish: join first.
      const [early] = await ack(t, 'herald:publish', room, { text: 'too early' });
      assert.match(early.error, /subscribe/);
      assert.deepEqual(await ack(t, 'herald:join', room), [{ ok: true, room, channel: `chat:${room}` }]);
      const [done] = await ack(t, 'herald:publish', room, { text: 'from a socket' }, 'chat-msg');
      assert.equal(done.ok, true);
      assert.ok(done.offset >= 1);
      await h.until((p) => p.length >= 1);
      assert.deepEqual(h.pubs[0].data, { text: 'from a socket' });
      assert.equal(h.pubs[0].info.client, t.id);
      await lt.count('chat-msg', 1);
      assert.deepEqual(untag(lt.of('chat-msg')[0]), [{ text: 'from a socket' }]);

      // And back: the herald client's publish is a "message" for the room's sockets.
      const pub = await h.call({ op: 'publish', channel: `chat:${room}`, data: { text: 'from herald' } });
      assert.ok(pub.result, JSON.stringify(pub));
      await lt.count('message', 1);
      assert.deepEqual(untag(lt.of('message')[0]), [{ text: 'from herald' }]);
      assert.deepEqual(await ack(t, 'herald:leave', room), [{ ok: true }]);
    } finally {
      h.close();
    }
  });
});

describe('server-side lifecycle', () => {
  test('handler errors go to OnError; the connection stays up', async () => {
    const w = await watcher();
    const s = await clients.connect('/');
    s.emit('typed', 'not a number');
    s.emit('panic');
    await w.count('peer-error', 2);
    const errs = w.of('peer-error').map(untag);
    assert.deepEqual(errs.map((e) => e.slice(0, 2)), [[s.id, '/'], [s.id, '/']]);
    assert.match(errs[0][2], /argument 1/);
    assert.match(errs[1][2], /handler blew up/);
    assert.deepEqual(await ack(s, 'echo', 'alive'), [['alive']]);
  });

  test('server disconnect: the client gets "io server disconnect" and does not reconnect', async () => {
    const w = await watcher();
    const s = await clients.connect('/', { reconnectionDelay: 50, reconnectionDelayMax: 50 });
    const id = s.id;
    const gone = next(s, 'disconnect');
    assert.deepEqual(await ack(s, 'server-disconnect'), ['bye']);
    assert.equal((await gone)[0], 'io server disconnect');
    await w.until((l) => l.some((e) => e.event === 'peer-disconnected' && e.args[0] === id));
    assert.equal(untag(w.of('peer-disconnected').find((a) => a[0] === id))[2], 'server namespace disconnect');
    await pause(300);
    assert.equal(s.connected, false);
    assert.equal(s.active, false);
  });

  test('closing the connection from the server disconnects every namespace on it', async () => {
    const mgr = new Manager(srv.url, { reconnection: false });
    const root = mgr.socket('/');
    const chat = mgr.socket('/chat');
    clients.sockets.add(root).add(chat);
    await Promise.all([connected(root), connected(chat)]);
    const gone = Promise.all([next(root, 'disconnect'), next(chat, 'disconnect')]);
    assert.deepEqual(await ack(chat, 'close-connection'), ['bye']);
    const [[r1], [r2]] = await gone;
    assert.equal(r1, 'io server disconnect');
    assert.equal(r2, 'io server disconnect');
    await waitFor(() => mgr.engine.readyState === 'closed', { what: 'the connection to close' });
  });

  test('client disconnect: the server sees "client namespace disconnect"', async () => {
    const w = await watcher();
    const s = await clients.connect('/');
    const id = s.id;
    s.disconnect();
    await w.until((l) => l.some((e) => e.event === 'peer-disconnected' && e.args[0] === id));
    assert.deepEqual(untag(w.of('peer-disconnected').find((a) => a[0] === id)), [id, '/', 'client namespace disconnect']);
  });

  test('numeric event names are valid packets (socket.io-parser 4.2 accepts them): the connection stays up', async () => {
    const s = await clients.connect('/', { reconnection: false });
    const log = record(s);
    s.emit(1, 'x');
    assert.deepEqual(await within(ack(s, 'echo', 'after'), 2000, 'echo'), [['after']]);
    assert.equal(log.of('disconnect').length, 0);
  });
});
