// Helpers for the Socket.IO suites: start e2e/sioserver (herald embedded,
// with test handlers) or another server binary, connect the official
// socket.io-client, and speak raw Engine.IO / herald's protocol where the
// client library would hide what is under test.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { REPO_DIR, freePort, signToken, waitFor } from './herald.mjs';

export { io, WebSocket };

/** e2e/sioserver, built by run.sh to bin/sioserver. */
export const SIOSERVER_BIN = process.env.E2E_SIOSERVER_BIN || path.join(REPO_DIR, 'bin', 'sioserver');
/** examples/socketio-chat, built by run.sh to bin/socketio-chat. */
export const SIOCHAT_BIN = process.env.E2E_SIOCHAT_BIN || path.join(REPO_DIR, 'bin', 'socketio-chat');
/** What e2e/sioserver/main.go configures. */
export const TOKEN_SECRET = 'e2e-sio-secret';
export const API_KEY = 'e2e-sio-api-key';

/** A herald token for user, signed with sioserver's secret. */
export function sioToken(user, claims = {}) {
  return signToken(TOKEN_SECRET, { sub: user, exp: Math.floor(Date.now() / 1000) + 3600, ...claims });
}

const running = new Set();
process.on('exit', () => { for (const p of running) try { p.kill('SIGKILL'); } catch { /* gone */ } });

/**
 * Starts a server binary listening on 127.0.0.1:port (a free one unless
 * given), passing `-addr 127.0.0.1:PORT` before args, and waits until
 * /healthz answers. Returns {url, port, pid, output(), stop() (SIGTERM),
 * kill() (SIGKILL), exited}.
 */
export async function startServer({ bin = SIOSERVER_BIN, args = [], port } = {}) {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run e2e/run.sh, which builds it`);
  port = port || await freePort();
  const child = spawn(bin, ['-addr', `127.0.0.1:${port}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  let gone = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    running.delete(child);
    gone = { code, signal };
    resolve(gone);
  }));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (gone) throw new Error(`${path.basename(bin)} exited (${gone.code ?? gone.signal}):\n${out}`);
      return (await fetch(url + '/healthz')).ok;
    }, { timeout: 15000, what: `${path.basename(bin)} on ${url}` });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url, port, pid: child.pid, exited,
    output: () => out,
    async stop() { if (!gone) child.kill('SIGTERM'); return exited; },
    async kill() { if (!gone) child.kill('SIGKILL'); return exited; },
  };
}

/** A promise that rejects after ms with a message naming what was awaited. */
export function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms waiting for ${what}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Client sockets opened through a Clients are closed by its closeAll(),
 * so a failed test leaves nothing reconnecting behind it.
 */
export class Clients {
  constructor(url) { this.url = url; this.sockets = new Set(); }

  /** A socket.io-client socket to nsp (not waited for); a new Manager unless forceNew:false. */
  socket(nsp = '/', opts = {}) {
    const s = io(this.url + (nsp === '/' ? '' : nsp), { forceNew: true, reconnectionDelay: 200, reconnectionDelayMax: 1000, ...opts });
    this.sockets.add(s);
    return s;
  }

  /** A socket, once connected; rejects with the connect_error. */
  async connect(nsp = '/', opts = {}) {
    const s = this.socket(nsp, opts);
    await connected(s);
    return s;
  }

  closeAll() {
    for (const s of this.sockets) {
      s.io.reconnection(false);
      s.disconnect();
    }
    this.sockets.clear();
  }
}

/** Resolves when s is connected, rejects with its next connect_error. */
export function connected(s, ms = 5000) {
  if (s.connected) return Promise.resolve(s);
  return within(new Promise((resolve, reject) => {
    const ok = () => { s.off('connect_error', bad); resolve(s); };
    const bad = (err) => { s.off('connect', ok); reject(err); };
    s.once('connect', ok);
    s.once('connect_error', bad);
  }), ms, `socket ${s.nsp} to connect`);
}

/** The arguments of the next `event` on s (a reserved one too: connect_error, disconnect). */
export function next(s, event, ms = 5000) {
  return within(new Promise((resolve) => s.once(event, (...args) => resolve(args))), ms, `"${event}" on ${s.nsp}`);
}

/** An acknowledged emit, bounded: resolves with the ack's arguments as an array. */
export function ack(s, event, ...args) {
  return new Promise((resolve, reject) => {
    s.timeout(5000).emit(event, ...args, (err, ...res) => (err ? reject(new Error(`no ack for "${event}": ${err.message}`)) : resolve(res)));
  });
}

/**
 * Records every event s receives (name and arguments, in order); until()
 * waits for a condition on the log.
 */
export function record(s) {
  const log = [];
  const waiters = new Set();
  const check = () => { for (const w of waiters) if (w.test(log)) { waiters.delete(w); w.resolve(log); } };
  s.onAny((event, ...args) => { log.push({ event, args }); check(); });
  for (const ev of ['connect', 'disconnect', 'connect_error']) s.on(ev, (...args) => { log.push({ event: ev, args }); check(); });
  log.of = (event) => log.filter((e) => e.event === event).map((e) => e.args);
  log.until = (test, ms = 5000, what = 'the recorded events') => {
    if (test(log)) return Promise.resolve(log);
    return within(new Promise((resolve) => waiters.add({ test, resolve })), ms, what)
      .catch((err) => { err.message += `; got ${JSON.stringify(log.map((e) => e.event))}`; throw err; });
  };
  log.count = (event, n, ms) => log.until((l) => l.filter((e) => e.event === event).length >= n, ms, `${n} "${event}" events`);
  return log;
}

/** An HTTP API call to the server; resolves with {status, body}. */
export async function api(url, apiPath, body) {
  const r = await fetch(url + apiPath, {
    method: 'POST',
    headers: { Authorization: `apikey ${API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: json, text };
}

/**
 * A raw Engine.IO v4 WebSocket connection, for what socket.io-client
 * cannot send. It answers pings unless pong is false; messages holds every frame received
 * (strings for text, Buffers for binary); closed resolves with
 * {code, reason} when the socket closes.
 */
export async function rawEngine(url, { query = '', pong = true } = {}) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket${query}`);
  const messages = [];
  const waiters = new Set();
  const check = () => { for (const w of waiters) if (w.test(messages)) { waiters.delete(w); w.resolve(messages); } };
  let closeInfo = null;
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => {
    closeInfo = { code, reason: String(reason) };
    resolve(closeInfo);
    check();
  }));
  ws.on('error', () => { /* reported through close */ });
  ws.on('message', (data, isBinary) => {
    const m = isBinary ? Buffer.from(data) : String(data);
    if (m === '2' && pong) ws.send('3');
    messages.push(m);
    check();
  });
  await within(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('close', () => reject(new Error('closed during the handshake'))); }), 5000, 'a raw WebSocket');
  const c = {
    ws, messages, closed,
    get isClosed() { return closeInfo !== null; },
    send: (m) => ws.send(m),
    until: (test, ms = 5000, what = 'raw frames') => (test(messages) ? Promise.resolve(messages)
      : within(new Promise((resolve) => waiters.add({ test, resolve })), ms, `${what}; got ${JSON.stringify(messages.map(String))}`)),
    close: () => ws.terminate(),
  };
  const [open] = await c.until((m) => m.length >= 1, 5000, 'the OPEN packet');
  if (typeof open !== 'string' || open[0] !== '0') throw new Error(`expected an OPEN packet, got ${open}`);
  c.handshake = JSON.parse(open.slice(1));
  return c;
}

/** A raw Engine.IO connection that has joined namespace nsp ("40" → "40{sid}"); sid is the socket's id. */
export async function rawSocket(url, nsp = '/', opts = {}) {
  const c = await rawEngine(url, opts);
  const prefix = nsp === '/' ? '40' : `40${nsp},`;
  c.send(prefix);
  const m = await c.until((m) => m.some((x) => typeof x === 'string' && x.startsWith(prefix + '{')), 5000, `CONNECT to ${nsp}`);
  c.sid = JSON.parse(m.find((x) => typeof x === 'string' && x.startsWith(prefix + '{')).slice(prefix.length)).sid;
  return c;
}

/**
 * A herald-protocol client on /ws: call() sends a command and resolves
 * with its reply; pubs collects publications; until() waits on them.
 */
export async function heraldClient(url) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
  const replies = new Map();
  const pubs = [];
  const waiters = new Set();
  let id = 0;
  ws.on('message', (data) => {
    for (const line of String(data).split('\n')) {
      if (!line.trim()) continue;
      const m = JSON.parse(line);
      if (m.id && replies.has(m.id)) { replies.get(m.id)(m); replies.delete(m.id); continue; }
      if (m.type === 'publication') pubs.push(m);
      for (const w of waiters) if (w.test(pubs)) { waiters.delete(w); w.resolve(pubs); }
    }
  });
  ws.on('error', () => {});
  await within(new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }), 5000, 'herald /ws');
  return {
    pubs,
    call(cmd) {
      const n = ++id;
      ws.send(JSON.stringify({ id: n, ...cmd }));
      return within(new Promise((resolve) => replies.set(n, resolve)), 5000, `reply to ${cmd.op}`);
    },
    until: (test, ms = 5000) => (test(pubs) ? Promise.resolve(pubs) : within(new Promise((resolve) => waiters.add({ test, resolve })), ms, 'publications')),
    close: () => ws.close(),
  };
}
