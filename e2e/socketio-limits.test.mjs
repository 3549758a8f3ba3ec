// The per-user connection limit with the official socket.io-client: it
// counts the sockets that are connected, not those the server keeps for
// connection state recovery after their transport dropped, so a page that
// reloads is never locked out by the sockets its reloads left behind.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { api, signToken, startHerald, unique, waitFor } from './lib/herald.mjs';
import { Clients, connected, next } from './lib/sio.mjs';

const SECRET = 'e2e-limits-secret';
const API_KEY = 'e2e-limits-key';
const PER_USER = 2;
let h;
let clients;

before(async () => {
  h = await startHerald({
    env: { HERALD_API_KEY: API_KEY, HERALD_TOKEN_SECRET: SECRET, HERALD_LIMITS_MAX_CONNECTIONS_PER_USER: String(PER_USER) },
  });
  clients = new Clients(h.url);
});
afterEach(() => clients.closeAll());
after(async () => {
  clients?.closeAll();
  await h?.stop();
});

const auth = (user) => ({ token: signToken(SECRET, { sub: user, exp: Math.floor(Date.now() / 1000) + 3600 }) });
const call = (method, path, body) => api(h.url, API_KEY, method, path, body);

/** One sample of the node's /metrics; 0 when absent. */
async function sample(name) {
  const text = await (await fetch(h.url + '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

/**
 * Waits until the node has let go of n sockets for reason (it counts a
 * socket once its user's slot is free again).
 */
const disconnected = (reason, n) => waitFor(async () => (await sample(`herald_socketio_disconnects_total{reason="${reason}"}`)) === n,
  { what: `${n} sockets disconnected for ${reason}` });

/** The next connect_error of s, after asking it to connect. */
async function refused(s) {
  const err = next(s, 'connect_error');
  s.connect();
  const [e] = await err;
  return e;
}

describe('max_connections_per_user with connection state recovery', () => {
  test('a page that reloads more often than the limit still connects; the limit holds for connected sockets', async () => {
    const user = unique('reloader');
    const dropped = await sample('herald_socketio_disconnects_total{reason="transport close"}');
    for (let i = 1; i <= PER_USER + 3; i++) {
      const page = await clients.connect('/', { auth: auth(user), reconnection: false });
      page.io.engine.close(); // the page goes away: the transport closes, no Socket.IO DISCONNECT
      await disconnected('transport close', dropped + i);
    }
    await clients.connect('/', { auth: auth(user) });
    await clients.connect('/', { auth: auth(user) });
    const over = clients.socket('/', { auth: auth(user), reconnection: false, autoConnect: false });
    const e = await refused(over);
    assert.equal(e.message, 'too many connections for this user');
    assert.deepEqual(e.data, { code: 1013 });
    // The reloads' sockets were kept all along: the server's disconnect
    // of the user ends them with the connected ones.
    const { body } = await call('POST', '/api/disconnect', { user });
    assert.equal(body.disconnected, PER_USER + PER_USER + 3);
  });

  test('recovery takes the slot back, and is refused with the limit\'s error when the user is at it', async () => {
    const user = unique('recoverer');
    const dropped = await sample('herald_socketio_disconnects_total{reason="transport close"}');
    const left = await sample('herald_socketio_disconnects_total{reason="client namespace disconnect"}');
    const s = await clients.connect('/', { auth: auth(user), reconnection: false });
    const other = await clients.connect('/', { auth: auth(user) });
    const pushed = next(s, 'note');
    await call('POST', '/api/push', { user, event: 'note', data: 1 });
    await pushed; // s now has an offset to come back with
    const id = s.id;

    s.io.engine.close();
    await disconnected('transport close', dropped + 1);
    s.connect();
    await connected(s);
    assert.equal(s.recovered, true);
    assert.equal(s.id, id);

    s.io.engine.close();
    await disconnected('transport close', dropped + 2);
    await clients.connect('/', { auth: auth(user) }); // the user is at the limit again
    const e = await refused(s);
    assert.equal(e.message, 'too many connections for this user');
    assert.deepEqual(e.data, { code: 1013 });

    other.disconnect();
    await disconnected('client namespace disconnect', left + 1);
    s.connect();
    await connected(s);
    assert.equal(s.recovered, false, 'the refused recovery ended the kept socket');
    assert.notEqual(s.id, id);
  });
});
