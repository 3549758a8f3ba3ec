// The push demo: sign in as a user with a dev-mode token, receive pushes
// as on-page notifications, and send them through POST /api/push.
import { Herald } from './herald.js';
import { el, avatar, bindStatus, devToken, devConfig, postJSON, timeEl } from './common.js';

const $ = (id) => document.getElementById(id);
const TOAST_MS = 8000;
let herald = null;
let sends = 0; // answers shown so far (lets tests wait for the next one)

function setNote(text, bad = true) {
  const b = $('note');
  b.textContent = text;
  b.classList.toggle('bad', bad);
  b.hidden = !text;
}

async function signIn(user) {
  $('user-error').textContent = '';
  let first;
  try {
    first = await devToken(user);
  } catch (err) {
    $('user-error').textContent = `Could not sign in: ${err.message}`;
    return;
  }
  if (first === null) {
    setNote('This server has no dev login (it is not in dev mode), so this page cannot sign you in. '
      + 'In production your application signs users in and hands herald.js their token.');
    $('signin').disabled = true;
    return;
  }
  sessionStorage.setItem('herald.push.user', user);
  let cached = first;
  herald = new Herald({
    // A fresh token whenever herald asks again (expired, or the server
    // restarted with a new secret).
    token: async () => {
      if (cached) { const t = cached; cached = null; return t; }
      const t = await devToken(user);
      if (!t) throw new Error('dev login is off');
      return t;
    },
  });
  bindStatus(herald, $('status'), $('banner'));
  herald.onPush(showPush);
  herald.connect();
  $('signin-form').hidden = true;
  $('signed-in').hidden = false;
  $('me').textContent = user;
  $('me-avatar').replaceChildren(avatar(user, { small: true }));
  if (!$('to').value) $('to').value = user;
}

function signOut() {
  herald?.disconnect();
  herald = null;
  sessionStorage.removeItem('herald.push.user');
  $('signed-in').hidden = true;
  $('signin-form').hidden = false;
  $('status').dataset.state = 'idle';
  $('status').textContent = 'Signed out';
  $('user').focus();
}

function textOf(data) {
  if (data && typeof data === 'object' && typeof data.text === 'string') return data.text;
  if (typeof data === 'string') return data;
  return JSON.stringify(data);
}

function showPush({ event, data }) {
  const text = textOf(data);
  const list = $('pushes');
  list.querySelector('.empty')?.remove();
  list.prepend(el('li', { attrs: { 'data-event': event } },
    el('span', { className: 'event', text: event }),
    el('span', { className: 'text', text }),
    timeEl(Date.now())));
  const close = el('button', { text: '×', attrs: { type: 'button', 'aria-label': 'Dismiss notification' } });
  const toast = el('div', { className: 'toast', attrs: { 'data-event': event } },
    el('div', { className: 'body' }, el('div', { className: 'event', text: event }), el('p', { className: 'text', text })),
    close);
  const remove = () => toast.remove();
  close.addEventListener('click', remove);
  $('toasts').prepend(toast);
  setTimeout(remove, TOAST_MS);
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const user = $('user').value.trim();
  if (!user) {
    $('user').setAttribute('aria-invalid', 'true');
    $('user-error').textContent = 'Enter a user name.';
    $('user').focus();
    return;
  }
  $('user').setAttribute('aria-invalid', 'false');
  signIn(user);
});
$('signout').addEventListener('click', signOut);

$('send-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const result = $('result');
  const user = $('to').value.trim();
  const event = $('event').value.trim() || 'alert';
  const text = $('text').value;
  for (const [id, bad] of [['to', !user], ['text', !text.trim()]]) $(id).setAttribute('aria-invalid', bad ? 'true' : 'false');
  if (!user || !text.trim()) {
    result.className = 'result bad';
    result.textContent = !user ? 'Enter the user to push to.' : 'Enter a message.';
    return;
  }
  result.className = 'result';
  result.textContent = 'Sending…';
  $('send').disabled = true;
  try {
    const r = await postJSON('api/push', { user, event, data: { text } }, { Authorization: 'apikey ' + $('apikey').value });
    if (!r.ok) throw new Error((r.body && r.body.error) || `HTTP ${r.status}`);
    const n = r.body.delivered;
    result.className = 'result ok';
    result.textContent = `Delivered to ${n} connection${n === 1 ? '' : 's'}.`;
    result.dataset.delivered = String(n);
  } catch (err) {
    result.className = 'result bad';
    result.textContent = `Not sent: ${err.message}`;
  } finally {
    result.dataset.n = String(++sends);
    $('send').disabled = false;
  }
});

devConfig().then((c) => {
  if (c && c.api_key && !$('apikey').value) $('apikey').value = c.api_key;
});

const saved = sessionStorage.getItem('herald.push.user');
if (saved) { $('user').value = saved; signIn(saved); }
