// Helpers to run the built herald binary in tests and talk to it over HTTP.
// Used by every e2e suite (browser tests and protocol clients alike).
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = path.resolve(E2E_DIR, '..');
/** The binary under test: $E2E_HERALD_BIN, else ../bin/herald (built by `make build`). */
export const E2E_HERALD_BIN = process.env.E2E_HERALD_BIN || path.join(REPO_DIR, 'bin', 'herald');

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls fn until it returns a truthy value (or throws at the deadline). */
export async function waitFor(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Every herald this process started, so none outlives it.
const running = new Set();
process.on('exit', () => { for (const p of running) try { p.kill('SIGKILL'); } catch { /* gone */ } });

/**
 * Starts herald on 127.0.0.1:port (a free one by default) and waits until
 * /healthz answers. Without env overrides it runs in dev mode: it clears
 * HERALD_* settings that would turn dev mode off. Returns a handle with
 * url, port, pid, apiKey and tokenSecret (dev mode prints both), stop()
 * (SIGTERM, graceful) and kill() (SIGKILL).
 */
export async function startHerald({ port, env = {}, args = [] } = {}) {
  if (!existsSync(E2E_HERALD_BIN)) throw new Error(`${E2E_HERALD_BIN} is missing: run "make build" first`);
  port = port || await freePort();
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  const child = spawn(E2E_HERALD_BIN, ['serve', ...args], {
    env: { ...base, HERALD_ADDR: `127.0.0.1:${port}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { running.delete(child); resolve({ code, signal }); }));
  let gone = null;
  exited.then((e) => { gone = e; });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (gone) throw new Error(`herald exited (${gone.code ?? gone.signal}):\n${out}`);
      const r = await fetch(url + '/healthz');
      return r.ok;
    }, { timeout: 15000, what: `herald on ${url}` });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const h = {
    url, port, pid: child.pid, process: child,
    apiKey: env.HERALD_API_KEY || (out.match(/api key:\s+(\S+)/) || [])[1],
    tokenSecret: env.HERALD_TOKEN_SECRET || (out.match(/token secret:\s+(\S+)/) || [])[1],
    output: () => out,
    exited,
    async stop() {
      if (gone) return gone;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (gone) return gone;
      child.kill('SIGKILL');
      return exited;
    },
  };
  return h;
}

/**
 * The herald the suite shares: the one run.sh started ($E2E_HERALD_URL), or,
 * when a test file runs alone, one of its own. release() stops it only
 * if this process started it.
 */
export async function sharedHerald() {
  if (process.env.E2E_HERALD_URL) {
    const url = process.env.E2E_HERALD_URL.replace(/\/$/, '');
    const conf = await devConfig(url);
    return { url, apiKey: conf && conf.api_key, release: async () => {} };
  }
  const h = await startHerald();
  return { url: h.url, apiKey: h.apiKey, tokenSecret: h.tokenSecret, release: () => h.stop() };
}

/** A token from the dev-mode login endpoint. */
export async function devToken(url, user) {
  const r = await fetch(url + '/dev/token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }),
  });
  if (!r.ok) throw new Error(`/dev/token: HTTP ${r.status}`);
  return (await r.json()).token;
}

/** The dev-mode config ({dev, api_key}), or null outside dev mode. */
export async function devConfig(url) {
  const r = await fetch(url + '/dev/config');
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`/dev/config: HTTP ${r.status}`);
  return r.json();
}

/** Calls the server API; resolves with {status, body}. */
export async function api(url, apiKey, method, apiPath, body) {
  const r = await fetch(url + apiPath, {
    method,
    headers: { Authorization: `apikey ${apiKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body: json, text };
}

/** Signs an HS256 JWT (for tokens the dev login does not make, e.g. short-lived ones). */
export function signToken(secret, claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64(claims);
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** A name unlikely to clash with other tests sharing the server. */
export function unique(prefix) {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
