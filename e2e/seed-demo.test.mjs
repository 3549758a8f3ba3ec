// The seed article's go-socket.io chat demo, ported to herald
// (examples/socketio-chat), driven by socket.io-client 4.8.4 as the
// article's page drives it: "res" on connect, join/leave/chat broadcast to
// rooms, notice → "reply", the "/chat" namespace's acknowledged "msg",
// and bye.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { unique } from './lib/herald.mjs';
import { Clients, SIOCHAT_BIN, ack, connected, record, startServer } from './lib/sio.mjs';

let srv;
let clients;

before(async () => {
  srv = await startServer({ bin: SIOCHAT_BIN });
  clients = new Clients(srv.url);
});
afterEach(() => clients.closeAll());
after(async () => {
  clients?.closeAll();
  await srv?.stop();
});

const pause = (ms = 150) => new Promise((r) => setTimeout(r, ms));

/** A connected "/" socket recording its events, past its "connected!" greeting. */
async function user() {
  const s = clients.socket('/');
  const log = record(s);
  await connected(s);
  await log.count('res', 1);
  return { s, log, res: () => log.of('res').map((a) => a[0]) };
}

describe('seed demo (examples/socketio-chat)', () => {
  test('serves its page and the official client bundle', async () => {
    const page = await fetch(`${srv.url}/demo/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script src="\/socket.io\/socket.io.js"><\/script>/);
    const js = await fetch(`${srv.url}/socket.io/socket.io.js`);
    assert.equal(js.status, 200);
    assert.match((await js.text()).slice(0, 200), /Socket\.IO v4/);
  });

  test('connect: the server says "res" connected!', async () => {
    const { s, res } = await user();
    assert.deepEqual(res(), [{ userId: s.id, text: 'connected!', state: 'notice', namespace: '', rooms: null }]);
  });

  test('join and leave are broadcast as "res" to the room', async () => {
    const room = unique('tent');
    const a = await user();
    const b = await user();
    a.s.emit('join', room);
    await a.log.count('res', 2);
    assert.deepEqual(a.res()[1], { userId: a.s.id, text: `<= ${a.s.id} join ${room}`, state: 'state', namespace: '/', rooms: [room] });
    b.s.emit('join', room);
    await a.log.count('res', 3);
    await b.log.count('res', 2);
    const joined = { userId: b.s.id, text: `<= ${b.s.id} join ${room}`, state: 'state', namespace: '/', rooms: [room] };
    assert.deepEqual(a.res()[2], joined);
    assert.deepEqual(b.res()[1], joined);

    a.s.emit('leave', room);
    await b.log.count('res', 3);
    assert.deepEqual(b.res()[2], { userId: a.s.id, text: `<= ${a.s.id} leave ${room}`, state: 'state', namespace: '/', rooms: [] });
    await pause();
    assert.equal(a.res().length, 3, 'who left does not hear of it');
  });

  test('chat reaches the members of the sender\'s rooms, and only them', async () => {
    const room = unique('tent');
    const [a, b, c] = [await user(), await user(), await user()];
    for (const u of [a, b]) {
      u.s.emit('join', room);
      await u.log.until((l) => l.of('res').some(([m]) => m.text === `<= ${u.s.id} join ${room}`));
    }
    await a.log.until((l) => l.of('res').some(([m]) => m.text === `<= ${b.s.id} join ${room}`));
    const before = [a, b, c].map((u) => u.res().length);
    a.s.emit('chat', 'Hello Socket.io!');
    const said = { userId: a.s.id, text: '<= Hello Socket.io!', state: 'normal', namespace: '/', rooms: [room] };
    for (const [i, u] of [a, b].entries()) {
      await u.log.count('res', before[i] + 1);
      assert.deepEqual(u.res().at(-1), said);
    }
    await pause();
    assert.equal(c.res().length, before[2], 'not in the room: nothing');
  });

  test('notice gets a "reply" "have …"', async () => {
    const { s, log } = await user();
    s.emit('notice', 'the lights are on');
    await log.count('reply', 1);
    assert.equal(log.of('reply')[0][0], 'have the lights are on');
  });

  test('the "/chat" namespace acknowledges "msg" with "recv …"', async () => {
    const chat = await clients.connect('/chat');
    assert.deepEqual(await ack(chat, 'msg', 'over there'), ['recv over there']);
    assert.equal(await chat.timeout(5000).emitWithAck('msg', '你好'), 'recv 你好');
  });

  test('bye: a "bye" event with the last message, an ack with its text, the room hears it, then disconnect', async () => {
    const room = unique('tent');
    const a = await user();
    const b = await user();
    for (const u of [a, b]) {
      u.s.emit('join', room);
      await u.log.until((l) => l.of('res').some(([m]) => m.text === `<= ${u.s.id} join ${room}`));
    }
    a.s.emit('chat', 'last words');
    await a.log.until((l) => l.of('res').some(([m]) => m.text === '<= last words'));
    const id = a.s.id;
    const acked = new Promise((resolve) => a.s.emit('bye', (last) => {
      a.log.push({ event: '(ack)', args: [last] });
      resolve(last);
    }));
    assert.equal(await acked, '<= last words');
    await a.log.count('disconnect', 1);
    const tail = a.log.slice(a.log.findIndex((e) => e.event === 'bye'));
    assert.deepEqual(tail.map((e) => e.event), ['bye', '(ack)', 'disconnect'], 'bye, then the ack, then the disconnect');
    assert.deepEqual(tail[0].args[0], { userId: id, text: '<= last words', state: 'normal', namespace: '/', rooms: [room] });
    assert.equal(tail[2].args[0], 'io server disconnect');
    assert.equal(a.s.connected, false);
    await b.log.until((l) => l.of('res').some(([m]) => m.text === `<= ${id} leaved`));
    assert.deepEqual(b.res().find((m) => m.text === `<= ${id} leaved`), { userId: id, text: `<= ${id} leaved`, state: 'state', namespace: '/', rooms: [room] });
  });
});
