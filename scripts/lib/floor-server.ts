/**
 * The floor's servers, one per process (started by scripts/lib/floor.ts for `npm run bench`), each
 * the least that its part of our stack could be. FLOOR_ROLE says which; it listens on
 * 127.0.0.1:PORT and exits on SIGTERM.
 *
 * - `http`: node:http answering every request with one fixed small JSON body.
 * - `grpc`: an @grpc/grpc-js server with one unary method (scripts/lib/floor-grpc.ts). Without
 *   REDIS_URL it answers a fixed body; with it, the body is an ioredis GET of `customers:<id>`
 *   (the cached get of the customers service, with nothing around it).
 * - `skeleton-bff`: node:http whose every request `/…/<id>` is one call of that method over one
 *   shared grpc-js channel to GRPC_ADDR, the answer written as the JSON body (no auth, no tRPC, no
 *   validation).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { FLOOR_CHANNEL_OPTIONS, FLOOR_SERVICE, floorClient } from './floor-grpc.js';

const role = process.env.FLOOR_ROLE;
const port = Number(process.env.PORT);
const FIXED = Buffer.from(
  JSON.stringify({ id: '0123456789abcdef01234567', name: 'Floor customer', email: 'floor@example.com', version: 1 }),
);

function httpServer(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handle);
  // Longer than Nginx keeps an idle upstream connection, as the BFF does: no reuse of a closed one.
  server.keepAliveTimeout = 75_000;
  server.listen(port, '127.0.0.1');
  return () => server.close();
}

function json(res: ServerResponse, body: Buffer) {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

let stop: () => void;
if (role === 'http') {
  stop = httpServer((req, res) => {
    req.resume();
    json(res, FIXED);
  });
} else if (role === 'grpc') {
  const redis = process.env.REDIS_URL ? new Redis(process.env.REDIS_URL) : undefined;
  const server = new grpc.Server(FLOOR_CHANNEL_OPTIONS);
  server.addService(FLOOR_SERVICE, {
    get: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      if (!redis) return callback(null, FIXED);
      redis.getBuffer(`customers:${call.request.toString()}`).then(
        (value) => (value ? callback(null, value) : callback({ code: grpc.status.NOT_FOUND, details: 'no such record' })),
        (err: Error) => callback({ code: grpc.status.UNAVAILABLE, details: err.message }),
      );
    },
  });
  server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
  });
  stop = () => {
    server.forceShutdown();
    redis?.disconnect();
  };
} else if (role === 'skeleton-bff') {
  const client = floorClient(String(process.env.GRPC_ADDR));
  stop = httpServer((req, res) => {
    req.resume();
    const url = req.url ?? '/';
    client.get(Buffer.from(url.slice(url.lastIndexOf('/') + 1))).then(
      (body) => json(res, body),
      () => {
        res.writeHead(502).end();
      },
    );
  });
} else {
  throw new Error(`FLOOR_ROLE must be http, grpc or skeleton-bff, not "${role}"`);
}

process.once('SIGTERM', () => {
  stop();
  process.exit(0);
});
