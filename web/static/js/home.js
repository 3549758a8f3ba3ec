// The home page: node figures from /stats, refreshed every two seconds
// while the page is visible.
import { devConfig } from './common.js';

const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat();
const EVERY = 2000;

function uptime(s) {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  try {
    const r = await fetch('stats', { cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const s = await r.json();
    $('s-connections').textContent = fmt.format(s.connections);
    $('s-users').textContent = fmt.format(s.users);
    $('s-channels').textContent = fmt.format(s.channels);
    $('s-published').textContent = fmt.format(s.published_per_second);
    $('s-delivered').textContent = fmt.format(s.delivered_per_second);
    $('node-line').textContent = `node ${s.node} · ${s.version} · up ${uptime(s.uptime_seconds)}`;
    $('stats').dataset.updated = String(Date.now());
    $('stats-error').textContent = '';
  } catch (err) {
    $('stats-error').textContent = `Could not read /stats (${err.message}); retrying.`;
  }
  if (!document.hidden) timer = setTimeout(refresh, EVERY);
}

document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
refresh();

devConfig().then((c) => {
  if (!c || !c.dev) return;
  const m = $('mode');
  m.textContent = 'Dev mode';
  m.dataset.state = 'connecting';
  m.title = 'Started without a config: anonymous clients and dev login are on. Not for production.';
  m.hidden = false;
});
