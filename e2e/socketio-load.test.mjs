// 1,000 concurrent socket.io-client sockets in this one Node process, on
// their own WebSocket connections to one herald: all join a room, each
// sends MESSAGES messages to it, and every socket must receive every
// message (its own included) exactly once. Bounded to a minute of
// delivery on the 2-core test machine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Clients, ack, connected, startServer, within } from './lib/sio.mjs';

const SOCKETS = 1000;
const MESSAGES = 2; // per socket: SOCKETS × MESSAGES × SOCKETS deliveries
const ROOM = 'load';

let srv;
let clients;

before(async () => {
  // Long pings: a busy client must not be dropped for a late pong.
  srv = await startServer({ args: ['-ping-interval', '20s', '-ping-timeout', '20s'] });
  clients = new Clients(srv.url);
});
after(async () => {
  clients?.closeAll();
  await srv?.stop();
});

test(`${SOCKETS} concurrent clients: every message reaches every member of the room exactly once`, { timeout: 110000 }, async (t) => {
  const started = Date.now();
  const socks = [];
  for (let i = 0; i < SOCKETS; i++) socks.push(clients.socket('/', { transports: ['websocket'], reconnection: false }));
  await within(Promise.all(socks.map((s) => connected(s, 30000))), 30000, `${SOCKETS} connections`);
  const connectedAt = Date.now();

  let drops = 0;
  for (const s of socks) s.on('disconnect', () => { drops++; });
  await within(Promise.all(socks.map((s) => ack(s, 'join', ROOM))), 30000, 'the joins');
  assert.deepEqual(await ack(socks[0], 'room-len', ROOM), [SOCKETS]);
  const joinedAt = Date.now();

  // seen[i][from * MESSAGES + seq] counts what socket i got of each message.
  const perSocket = SOCKETS * MESSAGES;
  const expected = SOCKETS * perSocket;
  const seen = socks.map(() => new Uint8Array(perSocket));
  let received = 0;
  let dupes = 0;
  let strays = 0;
  let done;
  const all = new Promise((resolve) => { done = resolve; });
  socks.forEach((s, i) => s.on('shout', (from, seq) => {
    const k = from * MESSAGES + seq;
    if (!(k >= 0 && k < perSocket)) { strays++; return; }
    if (seen[i][k]++) dupes++;
    if (++received === expected) done();
  }));
  for (let seq = 0; seq < MESSAGES; seq++) socks.forEach((s, from) => s.emit('shout', ROOM, from, seq));
  await within(all, 60000, `${expected} deliveries (got ${received} so far)`).catch((err) => {
    err.message += ` — received ${received}, duplicates ${dupes}, disconnects ${drops}`;
    throw err;
  });
  const deliveredAt = Date.now();
  await new Promise((r) => setTimeout(r, 200)); // a tiny wait: anything extra would be a duplicate

  t.diagnostic(`connect ${connectedAt - started}ms, join ${joinedAt - connectedAt}ms, ` +
    `${expected} deliveries in ${deliveredAt - joinedAt}ms (${Math.round(expected / ((deliveredAt - joinedAt) / 1000))}/s)`);
  assert.equal(drops, 0, 'no socket was disconnected');
  assert.equal(strays, 0, 'no unexpected messages');
  assert.equal(dupes, 0, 'no duplicates');
  assert.equal(received, expected);
  const missing = seen.reduce((n, row) => n + row.filter((c) => c !== 1).length, 0);
  assert.equal(missing, 0, 'each socket got each message exactly once');
});
