// Helpers shared by herald's demo pages. All user text goes into the DOM
// through textContent (el() below), never as HTML.

/**
 * Creates an element. props: className, text (set as textContent), attrs
 * ({name: value}), on ({event: handler}); children: nodes or strings
 * (strings become text nodes).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text != null) node.textContent = String(props.text);
  for (const [k, v] of Object.entries(props.attrs || {})) {
    if (v != null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const [k, v] of Object.entries(props.on || {})) node.addEventListener(k, v);
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** A stable hash of a string (FNV-1a, 32 bits). */
export function hash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// Avatar colours: distinct, and dark enough for white initials (WCAG AA).
const PALETTE = ['#4338ca', '#0e7490', '#15803d', '#b45309', '#be123c', '#7e22ce',
  '#1d4ed8', '#c2410c', '#0f766e', '#a21caf', '#4d7c0f', '#9f1239'];

/** The colour of a name's avatar, derived from the name. */
export function colorFor(name) {
  let h = hash(String(name));
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b); // spread the bits before taking a remainder
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return PALETTE[((h ^ (h >>> 16)) >>> 0) % PALETTE.length];
}

/** Up to two initials of a name: "Ada Lovelace" → "AL", "bob" → "BO". */
export function initials(name) {
  const words = String(name || '?').trim().split(/[\s._-]+/u).filter(Boolean);
  if (!words.length) return '?';
  const chars = (w) => Array.from(w);
  if (words.length === 1) return chars(words[0]).slice(0, 2).join('').toUpperCase();
  return (chars(words[0])[0] + chars(words[words.length - 1])[0]).toUpperCase();
}

/** An initials avatar, drawn locally (no network). */
export function avatar(name, { small = false, image = null } = {}) {
  const a = el('span', { className: small ? 'avatar small' : 'avatar', text: initials(name), attrs: { 'aria-hidden': 'true' } });
  a.style.backgroundColor = colorFor(name);
  if (image) {
    const img = el('img', { attrs: { src: image, alt: '', referrerpolicy: 'no-referrer' } });
    img.addEventListener('load', () => { a.textContent = ''; a.append(img); }, { once: true });
  }
  return a;
}

/** Binds a status pill (and an optional banner) to a Herald client's state. */
export function bindStatus(herald, pill, banner, labels = {}) {
  const text = {
    connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', disconnected: 'Offline', ...labels,
  };
  const show = (e) => {
    pill.dataset.state = e.state;
    pill.textContent = text[e.state] || e.state;
    if (!banner) return;
    banner.classList.toggle('bad', e.state === 'disconnected');
    if (e.state === 'reconnecting') {
      const retry = el('button', { className: 'link', text: 'Retry now', attrs: { type: 'button' } });
      retry.addEventListener('click', () => herald.reconnect());
      banner.replaceChildren(`Connection lost. Reconnecting (attempt ${e.attempt})… `, retry);
      banner.hidden = false;
    } else if (e.state === 'disconnected' && e.previous !== 'disconnected' && e.code && e.code !== 1000) {
      banner.textContent = `Disconnected by the server (${e.code}${e.reason ? ': ' + e.reason : ''}). Reload the page to try again.`;
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
  };
  show({ state: herald.state });
  herald.on('state', show);
}

/** Posts JSON and returns {status, body}. */
export async function postJSON(url, body, headers = {}) {
  const r = await fetch(url, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  let data = null;
  try { data = await r.json(); } catch { /* not JSON */ }
  return { status: r.status, ok: r.ok, body: data };
}

/**
 * Asks the dev-mode login endpoint for a token for user. Returns null when
 * the server has no dev login (404: production), throws on other errors.
 */
export async function devToken(user) {
  const r = await postJSON('dev/token', { user });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error((r.body && r.body.error) || `dev/token: HTTP ${r.status}`);
  return r.body.token;
}

/** The dev-mode config ({dev, api_key}), or null when not in dev mode. */
export async function devConfig() {
  try {
    const r = await fetch('dev/config', { cache: 'no-store' });
    if (!r.ok) return null;
    return await r.json();
  } catch {
    return null;
  }
}

/** A time as "14:05", with the full date for a tooltip. */
export function timeEl(ms) {
  const d = new Date(ms || Date.now());
  return el('time', {
    text: d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    attrs: { datetime: d.toISOString(), title: d.toLocaleString() },
  });
}
