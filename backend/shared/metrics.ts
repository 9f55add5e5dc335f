import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger.js';

/**
 * One registry per process, served as Prometheus text: by each backend service on its metrics
 * port (`startMetricsServer`), by the BFF at /metrics. Names are listed in docs/operations.md.
 */
export const registry = new Registry();

// Process metrics: CPU, memory, heap, event-loop lag, GC (process_*, nodejs_*).
collectDefaultMetrics({ register: registry });

export const rpcDuration = new Histogram({
  name: 'pdash_grpc_server_duration_seconds',
  help: 'gRPC calls handled, by method and status',
  labelNames: ['method', 'code'],
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const cacheRequests = new Counter({
  name: 'pdash_cache_requests_total',
  help: 'Get-by-id cache look-ups by result (hit, miss, error)',
  labelNames: ['collection', 'result'],
  registers: [registry],
});

export const redisErrors = new Counter({
  name: 'pdash_redis_errors_total',
  help: 'Redis commands that failed (the request went on without Redis)',
  labelNames: ['operation'],
  registers: [registry],
});

export const mongoErrors = new Counter({
  name: 'pdash_mongo_errors_total',
  help: 'gRPC calls failed by a MongoDB driver error, by error name (MongoServerSelectionError: the database is unreachable)',
  labelNames: ['error'],
  registers: [registry],
});

/**
 * The registry as Prometheus text on `GET /metrics` (nothing else), on its own port: never the
 * gRPC port, and never behind Nginx. Port 0 picks a free one.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  log: Logger;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' }).end(text),
      (err: unknown) => {
        options.log.error({ err }, 'metrics collection failed');
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics collection failed\n');
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
