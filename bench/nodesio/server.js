'use strict';
// The Node.js Socket.IO reference server that `herald bench socketio
// --target node` measures herald against (see bench/README.md).
//
//   npm ci && node server.js --port 3000 [--host 127.0.0.1] [--api-key KEY] [--recovery]
//
// It is the stock `socket.io` server (the version package-lock.json pins)
// with its defaults: `new Server(httpServer)` (transports polling and
// websocket, pingInterval 25s, pingTimeout 20s, maxHttpBufferSize 1e6,
// no per-message deflate) and connection state recovery OFF, which is the
// reference's default (--recovery turns it on with its default options).
// On top of that, just what the bench needs to drive it like herald:
//
//   - the `herald:join` event joins a room of namespace "/" (herald has it
//     built in), acknowledging with {"ok":true,...} when asked to;
//   - POST /api/publish {"channel","event","data"} does
//     io.to(channel).emit(event, data) and answers {"delivered": N}, N the
//     sockets in the room, like herald's HTTP API (event "message" when
//     none is given; `Authorization: apikey KEY` when --api-key is set);
//   - GET /healthz, and GET /api/info with the connection count, the
//     versions and process.memoryUsage().
//
// Everything runs in one process on Node's one JavaScript thread, as a
// default deployment of the reference does.

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { Server } = require('socket.io');

function flag(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const port = Number(flag('port', '3000'));
const host = flag('host', '127.0.0.1');
const apiKey = flag('api-key', '');
const recovery = process.argv.includes('--recovery');

function versionOf(pkg) {
  try {
    const file = path.join(__dirname, 'node_modules', pkg, 'package.json');
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

const versions = {
  node: process.version,
  'socket.io': versionOf('socket.io'),
  'engine.io': versionOf('engine.io'),
  ws: versionOf('ws'),
};

const maxBody = 1 << 20;

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function authorized(req) {
  return apiKey === '' || req.headers.authorization === 'apikey ' + apiKey;
}

let io;

function publish(req, res) {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > maxBody) {
      reply(res, 413, { error: 'body too large' });
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (res.writableEnded) return;
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      reply(res, 400, { error: 'the body is not JSON: ' + e.message });
      return;
    }
    if (typeof body.channel !== 'string' || body.channel === '') {
      reply(res, 400, { error: 'missing channel' });
      return;
    }
    if (body.data === undefined) {
      reply(res, 400, { error: 'missing data' });
      return;
    }
    const event = typeof body.event === 'string' && body.event !== '' ? body.event : 'message';
    const room = io.sockets.adapter.rooms.get(body.channel);
    io.to(body.channel).emit(event, body.data);
    reply(res, 200, { delivered: room ? room.size : 0 });
  });
}

const httpServer = http.createServer((req, res) => {
  const url = req.url.split('?')[0];
  if (url === '/healthz') {
    reply(res, 200, { status: 'ok' });
  } else if (url === '/api/publish' && req.method === 'POST') {
    if (!authorized(req)) return reply(res, 401, { error: 'bad API key' });
    publish(req, res);
  } else if (url === '/api/info' && req.method === 'GET') {
    if (!authorized(req)) return reply(res, 401, { error: 'bad API key' });
    reply(res, 200, {
      connections: io.engine.clientsCount,
      versions,
      recovery,
      memory: process.memoryUsage(),
    });
  } else {
    reply(res, 404, { error: 'not found' });
  }
});
// The bench's publishers keep their HTTP connections; Node's 5s default
// would close idle ones under them between runs of a sweep.
httpServer.keepAliveTimeout = 65000;

io = new Server(httpServer, recovery ? { connectionStateRecovery: {} } : {});

io.on('connection', (socket) => {
  socket.on('herald:join', (room, ack) => {
    if (typeof room !== 'string' || room === '') {
      if (typeof ack === 'function') ack({ error: 'the first argument must be a room name' });
      return;
    }
    socket.join(room);
    if (typeof ack === 'function') ack({ ok: true, room, channel: room });
  });
});

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

httpServer.listen(port, host, () => {
  console.log(
    `socket.io ${versions['socket.io']} on node ${versions.node} listening on ${host}:${httpServer.address().port}` +
      ` (connection state recovery ${recovery ? 'on' : 'off'})`,
  );
});
