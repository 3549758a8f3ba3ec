// herald.js: a small, dependency-free browser client for herald's
// WebSocket protocol (docs/protocol.md). Served by herald at /js/herald.js;
// documented in docs/js-client.md.
//
//   import { Herald } from '/js/herald.js';
//   const herald = new Herald({ token: () => fetchToken() });
//   herald.on('state', (e) => console.log(e.state));
//   const room = herald.subscribe('chat:lobby', { publication: (p) => show(p) });
//   herald.connect();
//   await room.publish({ text: 'hi' });

export const VERSION = '1';

/** Connection states, in the order a connection usually goes through them. */
export const State = Object.freeze({
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  DISCONNECTED: 'disconnected',
});

/** Close codes after which the client does not reconnect by itself. */
export const FINAL_CODES = Object.freeze([4001, 4003, 4005]);

/** An error reply from the server ({code, message}) or a client-side failure. */
export class HeraldError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'HeraldError';
    this.code = code;
  }
}

// Client-side error codes (server codes are HTTP-like numbers, see the protocol).
export const ErrorCode = Object.freeze({
  TIMEOUT: 'timeout',
  DISCONNECTED: 'disconnected',
  CLOSED: 'closed',
});

class Emitter {
  constructor() { this._handlers = new Map(); }
  /** Adds a handler; returns a function that removes it. */
  on(event, fn) {
    if (!this._handlers.has(event)) this._handlers.set(event, new Set());
    this._handlers.get(event).add(fn);
    return () => this.off(event, fn);
  }
  off(event, fn) { this._handlers.get(event)?.delete(fn); }
  once(event, fn) {
    const off = this.on(event, (...a) => { off(); fn(...a); });
    return off;
  }
  _emit(event, ...args) {
    for (const fn of [...(this._handlers.get(event) || [])]) {
      try { fn(...args); } catch (err) { reportError(err); }
    }
  }
}

function reportError(err) {
  // A throwing handler must not break the client; surface it like an
  // uncaught error without unwinding our own code.
  setTimeout(() => { throw err; });
}

function defaultURL() {
  // herald.js lives at <base>/js/herald.js; the WebSocket is <base>/ws.
  // This keeps working when herald is mounted under a prefix.
  const u = new URL('../ws', import.meta.url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

const DEFAULTS = {
  url: undefined,       // ws(s)://host/ws, or several nodes of one cluster as an array; default: next to this script
  token: undefined,     // a JWT string, or a (sync or async) function returning one; none = anonymous
  minDelay: 500,        // first reconnect backoff, ms
  maxDelay: 10000,      // backoff ceiling, ms
  timeout: 10000,       // how long a command waits for its reply, ms
  pingInterval: 25000,  // send a ping after this much silence (0: never) to notice dead links
  reconnect: true,      // reconnect after a dropped connection
  WebSocket: undefined, // WebSocket implementation (default: globalThis.WebSocket)
};

/**
 * A connection to herald that keeps itself up: it reconnects with backoff
 * and jitter, fetches a fresh token when needed, and resubscribes.
 *
 * Events (herald.on(name, fn)):
 *   state        {state, previous, code?, reason?, attempt?, delay?}
 *   connected    {client, user, node, version, expires}
 *   disconnected {code, reason, reconnect}   every time a connection ends
 *   resubscribed {channel, recovered, replayed, since, offset, epoch}   a channel resumed after a reconnect
 *   gap          {channel, reason, ...}      a channel's publications have a hole (see Subscription)
 *   push         {event, data}               (also 'push:<event>')
 *   error        HeraldError / Error         errors not tied to a command
 *   message      raw server message          everything the server sends, for debugging
 */
export class Herald extends Emitter {
  constructor(options = {}) {
    super();
    if (typeof options === 'string') options = { url: options };
    this.options = { ...DEFAULTS, ...options };
    // Several URLs are nodes of one cluster: a connection that cannot be
    // made moves on to the next, so the clients of a node that died reach
    // another and resume there from the shared streams.
    const urls = [].concat(this.options.url || defaultURL());
    this._urls = urls;
    this._urlIndex = 0;
    this.url = urls[0];
    this.state = State.DISCONNECTED;
    this.info = null;          // the connect reply of the current connection
    this.subscriptions = new Map();
    this._ws = null;
    this._nextId = 1;
    this._pending = new Map(); // id -> {resolve, reject, timer}
    this._token = typeof this.options.token === 'string' ? this.options.token : null;
    this._tokenFresh = false;  // the token was fetched for this attempt
    this._attempt = 0;
    this._timer = null;
    this._pingTimer = null;
    this._wanted = false;      // connect() called and not disconnect()
    this._notice = null;       // the server's disconnect message, if any
    this._openSeq = 0;         // bumped by each attempt; stale attempts give up
    this._onOnline = () => { if (this.state === State.RECONNECTING) this._retryNow(); };
  }

  /** Opens the connection (and keeps it open until disconnect()). */
  connect() {
    if (this._wanted) return this;
    this._wanted = true;
    this._attempt = 0;
    globalThis.addEventListener?.('online', this._onOnline);
    this._setState(State.CONNECTING);
    this._open();
    return this;
  }

  /** Closes the connection for good; subscriptions are kept for a later connect(). */
  disconnect() {
    this._wanted = false;
    this._openSeq++;
    globalThis.removeEventListener?.('online', this._onOnline);
    clearTimeout(this._timer);
    this._closeSocket(1000, 'client disconnect');
    this._connectionLost(1000, 'client disconnect', false);
    return this;
  }

  /**
   * Reconnects now: while waiting to reconnect, skips the wait; while
   * connected, drops the connection and opens a new one at once.
   */
  reconnect() {
    if (!this._wanted) return this.connect();
    if (this.state === State.CONNECTED) {
      this._closeSocket(4000, 'reconnect');
      this._attempt = 0;
      this._connectionLost(4000, 'reconnect', true);
    }
    this._retryNow();
    return this;
  }

  /** True once the connect reply came back and until the connection ends. */
  get connected() { return this.state === State.CONNECTED; }

  /**
   * Subscribes to a channel; returns its Subscription. Handlers (all
   * optional): publication(pub), join(info), leave(info),
   * subscribed({offset, epoch, resubscribed, recovered, replayed}),
   * resubscribed({channel, recovered, replayed, since, offset, epoch}),
   * unsubscribed({reason, server}), error(err), gap({channel, reason, ...}).
   *
   * After a reconnect the client resubscribes with `since` (the last
   * publication it handed on), so the server replays what was missed:
   * those publications reach publication() with `replayed: true`, in
   * order, before the live ones.
   */
  subscribe(channel, handlers = {}) {
    if (this.subscriptions.has(channel)) throw new HeraldError(409, `already subscribed to ${channel}`);
    const sub = new Subscription(this, channel, handlers);
    this.subscriptions.set(channel, sub);
    if (this.state === State.CONNECTED) this._sendSubscribe([sub]);
    return sub;
  }

  /** The subscription to channel, if any. */
  getSubscription(channel) { return this.subscriptions.get(channel); }

  /** Publishes data to channel (where its policy lets clients publish). */
  publish(channel, data) { return this.command('publish', { channel, data }); }

  /** The connections present in channel: [{client, user, info?}]. */
  async presence(channel) {
    const r = await this.command('presence', { channel });
    return r.clients || [];
  }

  /** Kept publications of channel: {publications, offset, epoch}. opts: {since, limit, epoch}. */
  history(channel, opts = {}) {
    const fields = { channel };
    if (opts.since != null) fields.since = opts.since;
    if (opts.limit != null) fields.limit = opts.limit;
    if (opts.epoch != null) fields.epoch = opts.epoch;
    return this.command('history', fields);
  }

  /** Round trip to the server; resolves with the time taken in ms. */
  async ping() {
    const t = performance.now();
    await this.command('ping', {});
    return performance.now() - t;
  }

  /** Registers a push handler: onPush(fn) for every push, onPush(event, fn) for one event. */
  onPush(event, fn) {
    if (typeof event === 'function') return this.on('push', event);
    return this.on('push:' + event, fn);
  }

  /** The last publication seen per channel: {channel: {offset, epoch}}: where each resumes from. */
  lastOffsets() {
    const out = {};
    for (const [ch, s] of this.subscriptions) {
      if (s.epoch != null) out[ch] = { offset: s.offset, epoch: s.epoch };
    }
    return out;
  }

  /**
   * Sends a command and resolves with its result, or rejects with a
   * HeraldError ({code, message}). Only while connected.
   */
  command(op, fields = {}) {
    if (this.state !== State.CONNECTED) {
      return Promise.reject(new HeraldError(ErrorCode.DISCONNECTED, `not connected (${this.state})`));
    }
    return this._request({ op, ...fields });
  }

  // --- internals -------------------------------------------------------

  _setState(state, detail = {}) {
    if (this.state === state && state !== State.RECONNECTING) return;
    const previous = this.state;
    this.state = state;
    this._emit('state', { state, previous, ...detail });
  }

  async _open() {
    clearTimeout(this._timer);
    this._closeSocket(4000, 'superseded'); // at most one socket at a time
    const seq = ++this._openSeq;
    this._notice = null;
    let token = null;
    try {
      token = await this._getToken();
    } catch (err) {
      if (seq !== this._openSeq || !this._wanted) return;
      this._emit('error', err instanceof Error ? err : new Error(String(err)));
      this._scheduleReconnect(0, 'token: ' + (err && err.message || err));
      return;
    }
    if (!this._wanted || seq !== this._openSeq) return;
    const WS = this.options.WebSocket || globalThis.WebSocket;
    let ws;
    try {
      ws = new WS(this.url);
    } catch (err) {
      this._emit('error', err);
      this._scheduleReconnect(1006, String(err && err.message || err));
      return;
    }
    this._ws = ws;
    // If the socket does not open and answer connect in time, give up on it.
    const openTimer = setTimeout(() => {
      if (this.state !== State.CONNECTED) this._abort(ws, 'connect timeout');
    }, this.options.timeout);
    ws.onopen = () => {
      if (this._ws !== ws) return;
      const fields = { op: 'connect' };
      if (token) fields.token = token;
      this._request(fields, ws).then((info) => {
        clearTimeout(openTimer);
        if (this._ws !== ws) return;
        this.info = info;
        this._attempt = 0;
        this._armPing();
        this._setState(State.CONNECTED, { client: info.client, user: info.user });
        this._emit('connected', info);
        this._sendSubscribe([...this.subscriptions.values()]);
      }, (err) => {
        clearTimeout(openTimer);
        // A refused connect is followed by the server's close frame
        // (4001, 4005, ...); the close handler decides what comes next.
        if (this._ws === ws) this._emit('error', err);
      });
    };
    ws.onmessage = (ev) => { if (this._ws === ws) this._onFrame(ev.data); };
    ws.onerror = () => { /* the close event follows and carries the code */ };
    ws.onclose = (ev) => {
      clearTimeout(openTimer);
      const n = this._notice;
      const code = ev.code === 1005 && n ? n.code : ev.code;
      this._lost(ws, code, ev.reason || (n && n.code === code ? n.reason : '') || '');
    };
  }

  async _getToken() {
    const t = this.options.token;
    this._tokenFresh = false;
    if (typeof t !== 'function') return this._token;
    if (this._token) return this._token;
    this._token = await t();
    this._tokenFresh = true;
    return this._token;
  }

  _lost(ws, code, reason) {
    if (this._ws !== ws) return;
    this._ws = null;
    if (this.state !== State.CONNECTED && this._urls.length > 1) {
      this._urlIndex = (this._urlIndex + 1) % this._urls.length;
      this.url = this._urls[this._urlIndex];
    }
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    let final = FINAL_CODES.includes(code);
    if (code === 4006) this._token = null; // expired: ask the token function again
    if (code === 4001 && typeof this.options.token === 'function' && !this._tokenFresh) {
      // A cached token was refused (say the server restarted with a new
      // secret): fetch a fresh one once; if that is refused too, stop.
      this._token = null;
      final = false;
    }
    if (!this.options.reconnect || !this._wanted) final = true;
    this._connectionLost(code, reason, !final);
  }

  _connectionLost(code, reason, reconnect) {
    clearTimeout(this._pingTimer);
    const wasConnected = this.state === State.CONNECTED;
    this.info = null;
    for (const [id, p] of this._pending) {
      clearTimeout(p.timer);
      p.reject(new HeraldError(ErrorCode.DISCONNECTED, `connection closed (${code}${reason ? ': ' + reason : ''})`));
      this._pending.delete(id);
    }
    for (const s of this.subscriptions.values()) s._connectionLost(reconnect);
    if (wasConnected || this.state !== State.DISCONNECTED) {
      this._emit('disconnected', { code, reason, reconnect });
    }
    if (reconnect) {
      this._scheduleReconnect(code, reason);
    } else {
      this._wanted = false;
      globalThis.removeEventListener?.('online', this._onOnline);
      this._setState(State.DISCONNECTED, { code, reason });
    }
  }

  /** The wait before reconnect attempt n: doubling from minDelay to maxDelay, with equal jitter. */
  backoff(n) {
    const { minDelay, maxDelay } = this.options;
    const d = Math.min(maxDelay, minDelay * 2 ** Math.min(n, 30));
    return Math.round(d / 2 + Math.random() * (d / 2));
  }

  _scheduleReconnect(code, reason) {
    if (!this._wanted) return;
    const attempt = ++this._attempt;
    const delay = this.backoff(attempt - 1);
    this._setState(State.RECONNECTING, { code, reason, attempt, delay });
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._open(), delay);
  }

  _retryNow() {
    clearTimeout(this._timer);
    this._open();
  }

  /** Gives up on ws (no answer in time) as if it had dropped: 1006, reconnect. */
  _abort(ws, reason) {
    if (!ws || this._ws !== ws) return;
    try { ws.close(4000, reason); } catch { /* already closing */ }
    this._lost(ws, 1006, reason);
  }

  _closeSocket(code, reason) {
    const ws = this._ws;
    if (!ws) return;
    this._ws = null;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try { ws.close(code, reason); } catch { /* already closing */ }
  }

  _armPing() {
    clearTimeout(this._pingTimer);
    const every = this.options.pingInterval;
    if (!every) return;
    this._pingTimer = setTimeout(() => {
      if (this.state !== State.CONNECTED) return;
      const ws = this._ws;
      // No reply within the timeout means the link is dead; drop it.
      this.command('ping').then(() => this._armPing(), (err) => {
        if (err.code === ErrorCode.TIMEOUT) this._abort(ws, 'ping timeout');
      });
    }, every);
  }

  _request(fields, ws = this._ws) {
    return new Promise((resolve, reject) => {
      const id = this._nextId++;
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new HeraldError(ErrorCode.TIMEOUT, `${fields.op}: no reply within ${this.options.timeout}ms`));
      }, this.options.timeout);
      this._pending.set(id, { resolve, reject, timer });
      this._send(ws, [{ id, ...fields }]);
    });
  }

  _send(ws, messages) {
    // Several commands go out in one frame, newline-separated.
    try {
      ws.send(messages.map((m) => JSON.stringify(m)).join('\n'));
    } catch (err) {
      this._emit('error', err);
    }
  }

  _sendSubscribe(subs) {
    const ws = this._ws;
    if (!ws || !subs.length) return;
    const msgs = [];
    for (const s of subs) {
      const id = this._nextId++;
      s._state = 'subscribing';
      // On a plain subscribe, publications can arrive before the reply
      // (they travel the server's fan-out; the reply does not): hold them
      // until it. A resuming subscribe has none before its reply.
      s._held = [];
      const since = s._resumePoint();
      const timer = setTimeout(() => {
        this._pending.delete(id);
        s._subscribeFailed(new HeraldError(ErrorCode.TIMEOUT, `subscribe ${s.channel}: no reply`));
      }, this.options.timeout);
      this._pending.set(id, {
        resolve: (r) => s._subscribed(r, since),
        reject: (err) => s._subscribeFailed(err),
        timer,
      });
      const msg = { id, op: 'subscribe', channel: s.channel };
      if (since) msg.since = since;
      msgs.push(msg);
    }
    this._send(ws, msgs);
  }

  _onFrame(data) {
    if (typeof data !== 'string') return; // herald only sends text frames
    this._armPing();
    for (const line of data.split('\n')) {
      if (!line.trim()) continue;
      let m;
      try { m = JSON.parse(line); } catch { continue; } // not herald's protocol: skip it
      this._emit('message', m);
      this._dispatch(m);
    }
  }

  _dispatch(m) {
    if (m.type === undefined) {
      const p = m.id ? this._pending.get(m.id) : undefined;
      if (p) {
        this._pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.error) p.reject(new HeraldError(m.error.code, m.error.message));
        else p.resolve(m.result || {});
      } else if (m.error) {
        // An error for a command that wanted no reply (id 0).
        this._emit('error', new HeraldError(m.error.code, m.error.message));
      }
      return;
    }
    switch (m.type) {
      case 'publication':
      case 'join':
      case 'leave':
      case 'unsubscribe':
        this.subscriptions.get(m.channel)?._onMessage(m);
        break;
      case 'push': {
        const push = { event: m.event, data: m.data };
        this._emit('push', push);
        this._emit('push:' + m.event, push);
        break;
      }
      case 'disconnect':
        // The close frame follows; its code is what counts.
        this._notice = { code: m.code, reason: m.reason };
        break;
    }
  }
}

/** One channel a Herald client is subscribed to. Made by Herald.subscribe. */
export class Subscription extends Emitter {
  constructor(client, channel, handlers) {
    super();
    this.client = client;
    this.channel = channel;
    this.handlers = handlers;
    // Position: the last publication handed on (or the channel's position
    // at subscribe time). A resubscribe resumes from here.
    this.offset = null;
    this.epoch = null;
    this._state = 'unsubscribed';
    this._everSubscribed = false;
    this._held = null;   // publications held until the subscribe reply
    this._replay = null; // {epoch, offset, recovered}: publications up to offset are replayed ones
    this._readyWaiters = [];
    for (const [name, fn] of Object.entries(handlers)) {
      if (typeof fn === 'function') this.on(name, fn);
    }
  }

  /** 'unsubscribed', 'subscribing' or 'subscribed'. */
  get state() { return this._state; }

  /** Resolves once the subscription is active (at once if it is). */
  ready(timeout = this.client.options.timeout) {
    if (this._state === 'subscribed') return Promise.resolve(this);
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      w.timer = setTimeout(() => {
        this._readyWaiters = this._readyWaiters.filter((x) => x !== w);
        reject(new HeraldError(ErrorCode.TIMEOUT, `not subscribed to ${this.channel} yet`));
      }, timeout);
      this._readyWaiters.push(w);
    });
  }

  /** Publishes to this channel once subscribed (the channel may allow only subscribers). */
  async publish(data) {
    if (this._state !== 'subscribed' && this.client.state !== State.CONNECTED) {
      throw new HeraldError(ErrorCode.DISCONNECTED, `not connected (${this.client.state})`);
    }
    await this.ready();
    return this.client.publish(this.channel, data);
  }

  presence() { return this.client.presence(this.channel); }
  history(opts) { return this.client.history(this.channel, opts); }

  /** Leaves the channel; the subscription is forgotten. */
  async unsubscribe() {
    const wasActive = this._state !== 'unsubscribed';
    this._forget();
    this._emit('unsubscribed', { reason: 'unsubscribed', server: false });
    if (wasActive && this.client.state === State.CONNECTED) {
      try { await this.client.command('unsubscribe', { channel: this.channel }); } catch { /* gone anyway */ }
    }
  }

  _forget() {
    this._state = 'unsubscribed';
    if (this.client.subscriptions.get(this.channel) === this) this.client.subscriptions.delete(this.channel);
    this._failWaiters(new HeraldError(ErrorCode.CLOSED, `unsubscribed from ${this.channel}`));
  }

  _failWaiters(err) {
    for (const w of this._readyWaiters) { clearTimeout(w.timer); w.reject(err); }
    this._readyWaiters = [];
  }

  _connectionLost(reconnect) {
    if (this._state !== 'unsubscribed') this._state = 'subscribing';
    this._held = null;
    this._replay = null;
    if (!reconnect) this._failWaiters(new HeraldError(ErrorCode.DISCONNECTED, 'disconnected'));
  }

  /** Where a resubscribe resumes from ({offset, epoch}), or null for a first subscribe. */
  _resumePoint() {
    if (!this._everSubscribed || this.epoch == null || this.offset == null) return null;
    return { offset: this.offset, epoch: this.epoch };
  }

  /** Raises event on the subscription and on its client (for apps that watch every channel). */
  _raise(event, detail) {
    this._emit(event, detail);
    this.client._emit(event, detail);
  }

  _subscribed(r, since) {
    if (this.client.subscriptions.get(this.channel) !== this) return; // unsubscribed meanwhile
    const resubscribed = this._everSubscribed;
    this._everSubscribed = true;
    const held = this._held || [];
    this._held = null;
    if (since) {
      this._resumed(r, since);
    } else {
      this.offset = r.offset;
      this.epoch = r.epoch;
      this._activate({ offset: r.offset, epoch: r.epoch, resubscribed, recovered: false, replayed: 0 });
    }
    if (!held.length) return;
    // The server subscribes before it reads the stream's position, so
    // publications that came before the reply are ones the reply's offset
    // already counts: new to us all the same. Hand them all on, then carry
    // on from whichever offset is further.
    if (!since) this.offset = null;
    for (const m of held) this._onMessage(m);
    if (this.offset == null || this.epoch !== r.epoch || this.offset < r.offset) {
      this.offset = r.offset;
      this.epoch = r.epoch;
    }
  }

  /**
   * The reply to a resuming subscribe: `replayed` publications up to
   * r.offset follow it, then the live ones.
   */
  _resumed(r, since) {
    const recovered = r.recovered === true;
    const replayed = Number(r.replayed) || 0;
    if (replayed > 0) {
      // Keep our position: the replay moves it on, publication by publication.
      this._replay = { epoch: r.epoch, offset: r.offset, recovered };
    } else {
      // Nothing follows before the live publications, which come after r.offset.
      this.offset = r.offset;
      this.epoch = r.epoch;
    }
    this._activate({ offset: r.offset, epoch: r.epoch, resubscribed: true, recovered, replayed });
    const detail = { channel: this.channel, recovered, replayed, since, offset: r.offset, epoch: r.epoch };
    this._raise('resubscribed', detail);
    if (!recovered) this._raise('gap', { ...detail, reason: 'unrecovered', expected: since.offset + 1 });
  }

  _activate(detail) {
    this._state = 'subscribed';
    for (const w of this._readyWaiters) { clearTimeout(w.timer); w.resolve(this); }
    this._readyWaiters = [];
    this._emit('subscribed', { channel: this.channel, ...detail });
  }

  _subscribeFailed(err) {
    if (this.client.subscriptions.get(this.channel) !== this) return;
    this._held = null; // no reply is coming to release what was held
    if (err.code === ErrorCode.DISCONNECTED || err.code === ErrorCode.TIMEOUT) {
      // Retried after the next reconnect.
      if (err.code === ErrorCode.TIMEOUT) this._emit('error', err);
      return;
    }
    if (err.code === 409) return; // already subscribed: cannot happen on a fresh connection
    this._forget();
    this._emit('error', err);
    this._emit('unsubscribed', { reason: err.message, server: true, error: err });
  }

  _onMessage(m) {
    if (this._held) {
      this._held.push(m);
      return;
    }
    switch (m.type) {
      case 'publication':
        this._onPublication(m);
        break;
      case 'join':
        this._emit('join', m.info || {});
        break;
      case 'leave':
        this._emit('leave', m.info || {});
        break;
      case 'unsubscribe':
        this._forget();
        this._emit('unsubscribed', { reason: m.reason, server: true });
        break;
    }
  }

  _onPublication(m) {
    const rp = this._replay;
    const replayed = !!rp && m.epoch === rp.epoch && m.offset <= rp.offset;
    if (rp && !replayed) this._replay = null; // the live publications have begun
    if (this.epoch === m.epoch && this.offset != null) {
      if (m.offset <= this.offset) return; // handed on already
      // A replay that could not recover skips what the server no longer
      // keeps; the 'unrecovered' gap has said so already.
      if (m.offset > this.offset + 1 && !(replayed && !rp.recovered)) {
        this._raise('gap', { channel: this.channel, reason: 'skipped', expected: this.offset + 1, got: m.offset });
      }
    } else if (this.epoch && this.epoch !== m.epoch && (this.offset > 0 || m.offset > 1) && !(replayed && !rp.recovered)) {
      // The stream started again (the broker lost it): what the old one
      // held can no longer be resumed.
      this._raise('gap', { channel: this.channel, reason: 'epoch', since: { offset: this.offset, epoch: this.epoch },
        offset: m.offset, epoch: m.epoch });
    }
    this.offset = m.offset;
    this.epoch = m.epoch;
    this._emit('publication', replayed ? { ...m, replayed: true } : m);
  }
}

export default Herald;
