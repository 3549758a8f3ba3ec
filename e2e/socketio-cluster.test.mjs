// Socket.IO long-polling across a cluster without sticky sessions: three
// herald nodes on one broker (Redis, then NATS) behind a proxy that sends
// every request, and every upgrade, to the next node in turn. The official
// client must connect, join, receive every publication in order, and
// upgrade, whichever node each of its requests lands on.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startHerald, api, unique, waitFor } from './lib/herald.mjs';
import { within } from './lib/sio.mjs';

const API_KEY = 'cluster-e2e-key';

/** Starts n herald nodes on broker with one fresh cluster prefix. */
async function startCluster(broker, n) {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-cluster-'));
  const file = path.join(dir, 'herald.yaml');
  writeFileSync(file, [
    `api_key: ${API_KEY}`, 'token_secret: cluster-e2e-secret', 'allow_anonymous: true',
    `broker: ${broker}`, 'cluster:', `  prefix: ${unique('e2e').replace(/[^A-Za-z0-9_-]/g, '_')}`, '  node_ttl: 3s',
    'default_channel:', '  subscribe: anyone', 'namespaces:', '  feed:', '    subscribe: anyone', '    history_size: 100',
    'shutdown_delay: 0s', 'log:', '  level: warn', '',
  ].join('\n'));
  const nodes = [];
  for (let i = 0; i < n; i++) nodes.push(await startHerald({ args: ['--config', file] }));
  for (const node of nodes) {
    await waitFor(async () => {
      const r = await api(node.url, API_KEY, 'GET', '/api/info');
      return r.status === 200 && r.body.nodes.length === n && r.body.nodes.every((x) => x.url);
    }, { timeout: 15000, what: `${node.url} listing ${n} nodes with their URLs` });
    const info = await api(node.url, API_KEY, 'GET', '/api/info');
    node.id = info.body.nodes.find((x) => x.url.endsWith(`:${node.port}`)).id;
  }
  return nodes;
}

/**
 * A round-robin proxy: each HTTP request and each upgrade goes to the next
 * node, whatever session it belongs to. hits counts, per sid, the nodes
 * its requests went to.
 */
function roundRobin(nodes) {
  let next = 0;
  const hits = new Map();
  const pick = (url) => {
    const i = next++ % nodes.length;
    const sid = new URL(url, 'http://x').searchParams.get('sid');
    if (sid) {
      if (!hits.has(sid)) hits.set(sid, new Set());
      hits.get(sid).add(i);
    }
    return nodes[i].port;
  };
  const server = http.createServer((req, res) => {
    const up = http.request({ host: '127.0.0.1', port: pick(req.url), method: req.method, path: req.url, headers: req.headers },
      (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  server.on('upgrade', (req, socket, head) => {
    const up = net.connect(pick(req.url), '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    const end = () => { socket.destroy(); up.destroy(); };
    up.on('error', end);
    socket.on('error', end);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}`, hits,
    close: () => { server.closeAllConnections(); server.close(); },
  })));
}

function connect(url, opts) {
  const s = io(url, { forceNew: true, reconnection: false, ...opts });
  return within(new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  }), 10000, `a socket connecting through ${url}`);
}

/** Connects clients through the proxy, publishes on every node in turn, and checks what each got. */
async function pollingWithoutStickiness(broker) {
  const nodes = await startCluster(broker, 3);
  const proxy = await roundRobin(nodes);
  const sockets = [];
  try {
    const room = unique('rr');
    for (let i = 0; i < 6; i++) {
      // Half stay on polling; half start on polling and upgrade.
      sockets.push(await connect(proxy.url, i % 2 ? { transports: ['polling'] } : {}));
    }
    const got = sockets.map(() => []);
    sockets.forEach((s, i) => s.on('message', (data) => got[i].push(data.n)));
    for (const s of sockets) {
      const reply = await within(s.emitWithAck('herald:join', room), 10000, 'herald:join');
      assert.equal(reply.ok, true, JSON.stringify(reply));
    }
    const count = 30;
    for (let n = 1; n <= count; n++) {
      const r = await api(nodes[n % nodes.length].url, API_KEY, 'POST', '/api/publish', { channel: room, data: { n } });
      assert.equal(r.status, 200, r.text);
    }
    const want = Array.from({ length: count }, (_, i) => i + 1);
    await waitFor(() => got.every((g) => g.length >= count), { timeout: 15000, what: 'every socket getting every publication' });
    got.forEach((g, i) => assert.deepEqual(g, want, `socket ${i} got ${g}`));
    for (const [i, s] of sockets.entries()) {
      const sid = s.io.engine.id;
      assert.ok(proxy.hits.get(sid).size > 1, `socket ${i}'s requests all went to one node: the proxy did not spread them`);
      if (i % 2 === 0) {
        await waitFor(() => s.io.engine.transport.name === 'websocket', { timeout: 10000, what: `socket ${i} upgrading` });
      } else {
        assert.equal(s.io.engine.transport.name, 'polling');
      }
    }
    // Still one session each after the upgrades: an emit with an ack goes through.
    for (const s of sockets) {
      const reply = await within(s.emitWithAck('herald:leave', room), 10000, 'herald:leave');
      assert.equal(reply.ok, true, JSON.stringify(reply));
    }
    const forwarded = await Promise.all(nodes.map(async (n) => {
      const m = await (await fetch(n.url + '/metrics')).text();
      return Number((m.match(/^herald_forwarded_requests_total\{result="ok"\} (\d+)/m) || [0, 0])[1]);
    }));
    assert.ok(forwarded.reduce((a, b) => a + b, 0) > 0, `no node counted a forwarded request: ${forwarded}`);
  } finally {
    sockets.forEach((s) => s.disconnect());
    proxy.close();
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

/** The id of the node an Engine.IO session is on: its sid's first 8 characters. */
const nodeOf = (s) => s.io.engine.id.slice(0, 8);

/**
 * A socket whose connection moves to another node recovers there: the
 * official client, WebSocket only, through the round-robin proxy (each
 * new connection goes to the next node). First its transport drops and it
 * reconnects elsewhere; then the node it is on shuts down and it comes
 * back through another. Each time socket.recovered is true, the id is the
 * same, and every publication arrives once, in order.
 */
async function recoveryAcrossNodes(broker) {
  const nodes = await startCluster(broker, 3);
  const proxy = await roundRobin(nodes);
  const s = io(proxy.url, { forceNew: true, transports: ['websocket'], reconnectionDelay: 200, reconnectionDelayMax: 400 });
  try {
    await within(new Promise((resolve) => s.once('connect', resolve)), 10000, 'the first connect');
    const room = unique('feed:roam').replace(/[^A-Za-z0-9:_-]/g, '_');
    const got = [];
    s.on('message', (data) => got.push(data.n));
    const reply = await within(s.emitWithAck('herald:join', room), 10000, 'herald:join');
    assert.equal(reply.ok, true, JSON.stringify(reply));
    let n = 0;
    const live = [...nodes];
    const publish = async (count) => {
      for (let i = 0; i < count; i++) {
        n++;
        const r = await api(live[n % live.length].url, API_KEY, 'POST', '/api/publish', { channel: room, data: { n } });
        assert.equal(r.status, 200, r.text);
      }
    };
    const everything = () => Array.from({ length: n }, (_, i) => i + 1);
    await publish(3);
    await waitFor(() => got.length === n, { what: 'the first publications' });
    const id = s.id;

    // The transport drops; publications go on while the client is away.
    const first = nodeOf(s);
    const back = new Promise((resolve) => s.once('connect', resolve));
    s.io.engine.close();
    await publish(5);
    await within(back, 10000, 'reconnecting after the transport dropped');
    assert.notEqual(nodeOf(s), first, 'the proxy sent the reconnection to the same node');
    assert.equal(s.recovered, true, 'not recovered on another node');
    assert.equal(s.id, id);
    await publish(2);
    await waitFor(() => got.length >= n, { what: 'every publication after moving' });
    assert.deepEqual(got, everything());

    // The node shuts down; the client comes back through another one.
    const holder = nodes.find((x) => x.id === nodeOf(s));
    assert.ok(holder, `no node has id ${nodeOf(s)}`);
    const again = new Promise((resolve) => s.once('connect', resolve));
    await holder.stop();
    live.splice(live.indexOf(holder), 1);
    await publish(4);
    await within(again, 15000, 'reconnecting after its node shut down');
    assert.notEqual(nodeOf(s), holder.id);
    assert.equal(s.recovered, true, 'not recovered after its node shut down');
    assert.equal(s.id, id);
    await publish(2);
    await waitFor(() => got.length >= n, { what: 'every publication after the shutdown' });
    assert.deepEqual(got, everything());
  } finally {
    s.disconnect();
    proxy.close();
    await Promise.all(nodes.map((x) => x.stop()));
  }
}

describe('Socket.IO polling through a round-robin proxy (no sticky sessions)', () => {
  test('three nodes on Redis', () => pollingWithoutStickiness('redis://127.0.0.1:6379'));
  test('three nodes on NATS', () => pollingWithoutStickiness('nats://127.0.0.1:4222'));
});

describe('Socket.IO connection state recovery across nodes', () => {
  test('on Redis', () => recoveryAcrossNodes('redis://127.0.0.1:6379'));
  test('on NATS', () => recoveryAcrossNodes('nats://127.0.0.1:4222'));
});
