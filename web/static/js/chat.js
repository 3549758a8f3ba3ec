// The chat demo: rooms are channels "chat:<room>"; the rooms list is the
// history of the well-known channel "chat:rooms", where creating (or
// first joining) a room announces it. Every user-supplied string reaches
// the page through textContent.
import { Herald } from './herald.js';
import { el, avatar, bindStatus, devToken, postJSON, timeEl } from './common.js';

const $ = (id) => document.getElementById(id);
const ROOMS_CHANNEL = 'chat:rooms';
const DEFAULT_ROOM = 'lobby';
const ROOM_RE = /^[A-Za-z0-9_.-]{1,40}$/;
const GROUP_MS = 5 * 60 * 1000; // messages closer than this by one author are grouped
const HISTORY_LIMIT = 50;         // messages a room shows when opened
const store = window.localStorage;

const state = {
  name: store.getItem('herald.chat.name') || '',
  gravatar: store.getItem('herald.chat.gravatar') === '1',
  gravatarHash: store.getItem('herald.chat.gravatarHash') || '',
  herald: null,
  anonymous: false,
  room: null,
  sub: null,
  rooms: new Set([DEFAULT_ROOM]),
  roomsLoaded: false,
  serverRooms: new Set(), // rooms announced on chat:rooms
  announced: new Set(),   // rooms this page announced
  seen: new Set(),     // "epoch:offset" of messages shown in the current room
  presence: new Map(), // client id -> {user, info}
};

/** Why a room name is not acceptable, or '' when it is. */
export function roomProblem(room) {
  if (!room) return 'Enter a room name.';
  if (!ROOM_RE.test(room)) return 'Use 1–40 letters, digits, "-", "_" or "." (no spaces).';
  if (room === 'rooms') return '"rooms" is reserved; pick another name.';
  return '';
}

function roomFromHash() {
  const h = decodeURIComponent(location.hash.slice(1));
  return h && !roomProblem(h) ? h : DEFAULT_ROOM;
}

// --- sign-in -----------------------------------------------------------

function showSignin() {
  $('chat').hidden = true;
  $('signin').hidden = false;
  $('name').value = state.name;
  $('gravatar').checked = state.gravatar;
  $('email-field').hidden = !state.gravatar;
  $('name').focus();
}

$('gravatar').addEventListener('change', (e) => { $('email-field').hidden = !e.target.checked; });

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('name').value.trim().replace(/\s+/g, ' ');
  const problem = !name ? 'Enter a display name.'
    : Array.from(name).length > 32 || new TextEncoder().encode(name).length > 64 ? 'Use at most 32 characters.'
      : /[\u0000-\u001f\u007f]/.test(name) ? 'The name has characters that cannot be shown.' : '';
  $('name').setAttribute('aria-invalid', problem ? 'true' : 'false');
  $('name-error').textContent = problem;
  if (problem) { $('name').focus(); return; }
  state.name = name;
  state.gravatar = $('gravatar').checked;
  state.gravatarHash = state.gravatar ? await gravatarHash($('email').value) : '';
  store.setItem('herald.chat.name', name);
  store.setItem('herald.chat.gravatar', state.gravatar ? '1' : '0');
  store.setItem('herald.chat.gravatarHash', state.gravatarHash);
  start();
});

async function gravatarHash(email) {
  email = String(email || '').trim().toLowerCase();
  if (!email || !crypto.subtle) return '';
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(email));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

$('change-name').addEventListener('click', () => {
  state.herald?.disconnect();
  state.herald = null;
  state.sub = null;
  state.room = null;
  $('status').dataset.state = 'idle';
  $('status').textContent = 'Not signed in';
  $('banner').hidden = true;
  showSignin();
});

/**
 * The token function: in dev mode herald mints tokens at /dev/token, so
 * the display name is a verified user name in presence and join/leave.
 * Outside dev mode a page may name its own token endpoint in a meta tag;
 * with neither, the page connects as a guest.
 */
async function tokenSource(name) {
  const endpoint = document.querySelector('meta[name="herald-token-endpoint"]')?.content;
  if (endpoint) {
    return async () => {
      const r = await postJSON(endpoint, { user: name });
      if (!r.ok || !r.body?.token) throw new Error(`token endpoint: HTTP ${r.status}`);
      return r.body.token;
    };
  }
  const first = await devToken(name); // null: no dev login here
  if (first === null) return null;
  let cached = first;
  return async () => {
    if (cached) { const t = cached; cached = null; return t; }
    const t = await devToken(name);
    if (t === null) throw new Error('dev login was turned off');
    return t;
  };
}

async function start() {
  $('signin').hidden = true;
  $('chat').hidden = false;
  $('me-name').textContent = state.name;
  $('me-avatar').replaceChildren(avatar(state.name, { small: true }));
  $('message').focus();
  $('note').hidden = true;
  let token;
  try {
    token = await tokenSource(state.name);
  } catch (err) {
    // The login endpoint failed; let herald.js retry it with backoff.
    showNote(`Could not sign in yet (${err.message}); retrying.`, true);
    token = async () => { const t = await devToken(state.name); $('note').hidden = true; return t; };
  }
  state.anonymous = token === null;
  if (state.anonymous) {
    showNote('This server has no dev login, so you chat as a guest: your name is not verified and the online list shows guests.');
  }
  const herald = new Herald({ token: token || undefined });
  state.herald = herald;
  bindStatus(herald, $('status'), $('banner'));
  herald.on('error', (err) => console.warn('herald:', err.message || err));
  herald.subscribe(ROOMS_CHANNEL, {
    publication: (p) => addRoom(p.data && p.data.room, { fromServer: true }),
    subscribed: () => loadRooms(),
  });
  herald.connect();
  joinRoom(roomFromHash());
}

function showNote(text, bad = false) {
  const b = $('note');
  b.textContent = text;
  b.classList.toggle('bad', bad);
  b.hidden = false;
}

// --- rooms -------------------------------------------------------------

async function loadRooms() {
  try {
    const h = await state.herald.history(ROOMS_CHANNEL);
    for (const p of h.publications || []) addRoom(p.data && p.data.room, { fromServer: true, render: false });
  } catch (err) {
    console.warn('rooms history:', err.message);
  }
  state.roomsLoaded = true;
  renderRooms();
  announce(state.room);
}

function addRoom(room, { fromServer = false, render = true } = {}) {
  if (typeof room !== 'string' || roomProblem(room)) return;
  if (fromServer) state.serverRooms.add(room);
  if (state.rooms.has(room)) return;
  state.rooms.add(room);
  if (render) renderRooms();
}

function renderRooms() {
  const list = [...state.rooms].sort((a, b) => (a === DEFAULT_ROOM ? -1 : b === DEFAULT_ROOM ? 1 : a.localeCompare(b)));
  $('rooms').replaceChildren(...list.map((r) => el('li', {},
    el('a', { text: '#' + r, attrs: { href: '#' + encodeURIComponent(r), 'aria-current': r === state.room ? 'true' : null, 'data-room': r } }))));
}

/** Tells every chat page about a room that is not on the shared list yet. */
function announce(room) {
  if (!room || room === DEFAULT_ROOM || !state.roomsLoaded || !state.herald) return;
  if (state.serverRooms.has(room) || state.announced.has(room)) return;
  const sub = state.herald.getSubscription(ROOMS_CHANNEL);
  if (!sub) return;
  state.announced.add(room);
  sub.publish({ room }).catch(() => state.announced.delete(room));
}

$('room-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('new-room');
  const room = input.value.trim();
  const problem = roomProblem(room);
  input.setAttribute('aria-invalid', problem ? 'true' : 'false');
  $('room-error').textContent = problem;
  if (problem) { input.focus(); return; }
  input.value = '';
  addRoom(room);
  location.hash = '#' + encodeURIComponent(room);
  $('message').focus();
});

window.addEventListener('hashchange', () => { if (state.herald) joinRoom(roomFromHash()); });

// --- the current room --------------------------------------------------

function joinRoom(room) {
  if (room === state.room && state.sub) return;
  state.sub?.unsubscribe();
  state.room = room;
  state.seen.clear();
  state.presence.clear();
  addRoom(room, { render: false });
  renderRooms();
  document.title = `#${room} · Chat · Herald`;
  $('room-title').textContent = '#' + room;
  $('messages').replaceChildren(el('li', { className: 'empty', text: 'Loading…' }));
  renderPeople();
  $('send-error').textContent = '';
  const channel = 'chat:' + room;
  let sub;
  sub = state.herald.subscribe(channel, {
    // After a reconnect herald.js resumes the room: what was sent while
    // the page was away arrives first, marked replayed.
    publication: (p) => { if (state.sub === sub) addMessage(p, { missed: !!p.replayed }); },
    join: (info) => { if (state.sub === sub) onJoin(info); },
    leave: (info) => { if (state.sub === sub) onLeave(info); },
    subscribed: (e) => { if (state.sub === sub) onSubscribed(sub, e); },
    unsubscribed: (e) => {
      if (state.sub === sub && e.server) notice(`You were removed from #${room}${e.reason ? ': ' + e.reason : ''}.`);
    },
  });
  state.sub = sub;
  announce(room);
}

async function onSubscribed(sub, e) {
  if (!e.resubscribed) {
    await loadHistory(sub, e);
  } else if (e.recovered) {
    if (e.replayed) notice(`While you were offline: ${e.replayed} new message${e.replayed === 1 ? '' : 's'}.`);
  } else {
    // The server could not replay everything (it restarted, or too much
    // was missed): say so, and show what the room keeps now.
    notice('Reconnected. Some messages sent while you were away may be missing.');
    await loadHistory(sub, e, { missed: true });
  }
  refreshPresence(sub);
}

/** Shows the room's latest messages, up to HISTORY_LIMIT before the position pos. */
async function loadHistory(sub, pos, { missed = false } = {}) {
  try {
    const h = await sub.history({ since: Math.max(0, pos.offset - HISTORY_LIMIT), epoch: pos.epoch, limit: HISTORY_LIMIT });
    if (state.sub !== sub) return;
    for (const p of h.publications || []) addMessage({ ...p, channel: sub.channel }, { missed });
  } catch (err) {
    if (state.sub === sub) notice(`Could not load the room's history: ${err.message}`);
  }
  if (state.sub === sub) {
    const list = $('messages');
    const loading = list.querySelector('.empty');
    if (loading) {
      if (list.children.length > 1) loading.remove();
      else loading.textContent = 'No messages yet. Say hello!';
    }
    list.dataset.ready = 'true';
    scrollToEnd(true);
  }
}

function authorOf(p) {
  const d = p.data && typeof p.data === 'object' ? p.data : {};
  const claimed = typeof d.name === 'string' ? d.name.slice(0, 64) : '';
  if (!p.info) return claimed || 'Herald'; // published by the server
  return p.info.user || claimed || 'guest';
}

function isMine(p) {
  const info = p.info;
  const me = state.herald && state.herald.info;
  if (!info || !me) return false;
  return info.client === me.client || (!!info.user && info.user === me.user);
}

function textOf(p) {
  if (p.data && typeof p.data === 'object' && typeof p.data.text === 'string') return p.data.text;
  return JSON.stringify(p.data);
}

function gravatarURL(p) {
  const h = p.data && p.data.gravatar;
  if (!state.gravatar || typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) return null;
  return `https://www.gravatar.com/avatar/${h}?s=72&d=404`;
}

/** Shows p once; missed: it was sent while this page was offline. */
function addMessage(p, { missed = false } = {}) {
  const key = `${p.epoch}:${p.offset}`;
  if (state.seen.has(key)) return;
  state.seen.add(key);
  const list = $('messages');
  list.querySelector('.empty')?.remove();
  const author = authorOf(p);
  const li = el('li', {
    className: 'msg' + (isMine(p) ? ' mine' : '') + (missed ? ' missed' : ''),
    attrs: { 'data-offset': p.offset, 'data-epoch': p.epoch, 'data-author': author, 'data-time': p.time || Date.now() },
  },
  avatar(author, { image: gravatarURL(p) }),
  el('div', { className: 'body' },
    el('div', { className: 'meta' }, el('span', { className: 'author', text: author }), timeEl(p.time)),
    el('p', { className: 'text', text: textOf(p) }),
    missed ? el('span', { className: 'missed-label', text: 'missed while offline' }) : null));
  // Keep offset order within a stream: history may arrive after live messages.
  let before = null;
  for (let n = list.lastElementChild; n; n = n.previousElementSibling) {
    if (!n.classList.contains('msg') || n.dataset.epoch !== String(p.epoch)) break;
    if (Number(n.dataset.offset) > p.offset) before = n; else break;
  }
  const stick = nearEnd();
  list.insertBefore(li, before);
  group(li);
  if (li.nextElementSibling) group(li.nextElementSibling);
  if (!before) scrollToEnd(stick || isMine(p));
}

/** Marks a message as a continuation of the previous one by the same author. */
function group(li) {
  if (!li.classList.contains('msg')) return;
  const prev = li.previousElementSibling;
  const cont = prev && prev.classList.contains('msg') && prev.dataset.author === li.dataset.author
    && prev.classList.contains('missed') === li.classList.contains('missed')
    && Number(li.dataset.time) - Number(prev.dataset.time) < GROUP_MS;
  li.classList.toggle('cont', !!cont);
}

function notice(text) {
  const list = $('messages');
  const stick = nearEnd();
  list.append(el('li', { className: 'notice', text }));
  scrollToEnd(stick);
}

function nearEnd() {
  const l = $('messages');
  return l.scrollHeight - l.scrollTop - l.clientHeight < 80;
}

function scrollToEnd(really) {
  if (really) { const l = $('messages'); l.scrollTop = l.scrollHeight; }
}

// --- presence ----------------------------------------------------------

function userKey(c) { return c.user ? 'u:' + c.user : 'c:' + c.client; }
function displayName(c) {
  if (c.info && typeof c.info === 'object' && typeof c.info.name === 'string') return c.info.name;
  return c.user || 'guest ' + String(c.client || '').split('-').pop();
}
function isMe(c) {
  const me = state.herald && state.herald.info;
  return !!me && (c.client === me.client || (!!c.user && c.user === me.user));
}
function present(key) {
  for (const c of state.presence.values()) if (userKey(c) === key) return true;
  return false;
}

async function refreshPresence(sub) {
  try {
    const clients = await sub.presence();
    if (state.sub !== sub) return;
    state.presence = new Map(clients.map((c) => [c.client, c]));
    renderPeople();
  } catch (err) {
    console.warn('presence:', err.message);
  }
}

function onJoin(info) {
  const known = present(userKey(info));
  state.presence.set(info.client, info);
  renderPeople();
  if (!known && !isMe(info)) notice(`${displayName(info)} joined`);
}

function onLeave(info) {
  state.presence.delete(info.client);
  renderPeople();
  if (!present(userKey(info)) && !isMe(info)) notice(`${displayName(info)} left`);
}

function renderPeople() {
  const people = new Map();
  for (const c of state.presence.values()) {
    const k = userKey(c);
    if (!people.has(k)) people.set(k, c);
  }
  const sorted = [...people.values()].sort((a, b) => (isMe(b) - isMe(a)) || displayName(a).localeCompare(displayName(b)));
  $('people').replaceChildren(...sorted.map((c) => el('li', { attrs: { 'data-user': displayName(c) } },
    avatar(displayName(c), { small: true }),
    el('span', { className: 'name', text: displayName(c) }),
    isMe(c) ? el('span', { className: 'you', text: '(you)' }) : null)));
  $('online-count').textContent = people.size ? `${people.size} online` : '';
}

// --- sending -----------------------------------------------------------

$('composer').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('message');
  const text = input.value.trim();
  if (!text || !state.sub) return;
  const data = { text, name: state.name };
  if (state.gravatarHash) data.gravatar = state.gravatarHash;
  $('send-error').textContent = '';
  input.value = '';
  try {
    await state.sub.publish(data);
  } catch (err) {
    if (!input.value) input.value = text; // keep what was typed
    $('send-error').textContent = err.code === 'disconnected'
      ? 'Not connected: your message was not sent. It will be possible again once reconnected.'
      : `Not sent: ${err.message}`;
  }
  input.focus();
});

// --- go ------------------------------------------------------------------

if (state.name) start(); else showSignin();
