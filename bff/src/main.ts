import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { contextFrom } from '@pdash/backend-shared/context';
import { createLogger } from '@pdash/backend-shared/logger';
import { runMain } from '@pdash/backend-shared/main';
import { registry } from '@pdash/backend-shared/metrics';
import { MAX_BATCH_CALLS } from '@pdash/contracts';
import { TRPCError } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { TokenVerifier } from './auth-cache.js';
import { createClients } from './clients.js';
import { loadBffConfig, MAX_BODY_BYTES } from './config.js';
import { type ContextDeps, callMetadataOf, createContext, readToken, requestLogFields, setRequestContext } from './context.js';
import { endpointOf } from './endpoints.js';
import { logFailure, retryAfterSeconds } from './errors.js';
import { OrderFeed } from './events.js';
import { httpDuration } from './metrics.js';
import { createRestHandler } from './rest.js';
import { appRouter } from './routers/index.js';
import { createQueryFastPath } from './trpc-queries.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Headers of every JSON answer of tRPC's: never cached; Retry-After when the rate limit refused. */
function jsonHeaders(errors: TRPCError[]): Record<string, string> {
  const retryAfter = errors.map(retryAfterSeconds).find((s) => s !== undefined);
  return { 'Cache-Control': 'no-store', ...(retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) }) };
}
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS']);

/**
 * How many calls a tRPC request carries: a batch (`?batch=1`) names them comma-separated in its
 * path, counted as tRPC reads it (decoded: `%2C` is a comma too). tRPC's own maxBatchSize holds
 * the same line behind this one.
 */
function batchCalls(url: URL): number {
  if (url.searchParams.get('batch') !== '1') return 1;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return 1; // not a path tRPC can read either: it refuses it itself
  }
  let calls = 1;
  for (let i = path.indexOf(','); i !== -1; i = path.indexOf(',', i + 1)) calls++;
  return calls;
}

/** A batch over the limit is refused whole, before any of its calls runs (API.md). */
function tooManyCalls(res: ServerResponse, calls: number) {
  const message = `batch: at most ${MAX_BATCH_CALLS} calls per request, not ${calls}`;
  sendTrpcError(res, new TRPCError({ code: 'BAD_REQUEST', message }), null);
}

/** A refusal before tRPC's adapter sees the request, in tRPC's own error shape (trpc.ts's formatter). */
function sendTrpcError(res: ServerResponse, error: TRPCError, path: string | null, headers: Record<string, string> = {}) {
  const httpStatus = getHTTPStatusCodeFromError(error);
  res.writeHead(httpStatus, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  const data = { code: error.code, httpStatus, path };
  res.end(JSON.stringify({ error: { code: TRPC_ERROR_CODES_BY_KEY[error.code], message: error.message, data } }));
}

/**
 * One BFF replica: tRPC at /trpc, the REST fallback at /api, /healthz, Prometheus /metrics (for
 * scrapers inside the network: Nginx neither routes it nor may forward it); every response names
 * the replica (X-Served-By) and the request (X-Request-Id). Each request carries its request
 * context (request id and W3C trace) on to its gRPC calls and its log lines (context.ts).
 */
export async function startBff(env: NodeJS.ProcessEnv = process.env, options: { logTo?: Parameters<typeof createLogger>[2] } = {}) {
  const config = loadBffConfig(env);
  const log = createLogger('bff', config.LOG_LEVEL, options.logTo);
  const clients = createClients(config);
  const stopping = new AbortController();
  const deps: ContextDeps = {
    clients,
    tokens: new TokenVerifier(clients.auth),
    orderFeed: new OrderFeed(log, stopping.signal, config.GRPC_DEADLINE_MS),
    log,
    cookieSecure: config.COOKIE_SECURE,
    deadlineMs: config.GRPC_DEADLINE_MS,
  };

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    maxBodySize: MAX_BODY_BYTES,
    maxBatchSize: MAX_BATCH_CALLS,
    createContext: ({ req, res, info }) => createContext(deps, req, res, info.connectionParams),
    responseMeta({ type, errors }) {
      // SSE keeps tRPC's own `no-cache, no-transform` (and X-Accel-Buffering: no) for proxies.
      if (type === 'subscription') return {};
      return { headers: jsonHeaders(errors) };
    },
    onError: ({ error, path, req }) => logFailure(log, requestLogFields(req), path, error),
  });
  const answerQuery = createQueryFastPath({
    deps,
    headers: jsonHeaders,
    onError: (error, path, req) => logFailure(log, requestLogFields(req), path, error),
  });
  const rest = createRestHandler(deps);
  let replica = config.BFF_REPLICA_NAME ?? '';
  /** Open SSE responses: ended at once on shutdown so their clients reconnect elsewhere. */
  const streams = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const header = req.headers['x-request-id'];
    const requestId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    const traceparent = typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined;
    setRequestContext(req, { ...contextFrom(requestId, traceparent), requestId });
    handle(req, res, requestId);
  });

  /** A tRPC request: GET queries answered by the fast path where it can, the rest by tRPC's adapter. */
  function answerTrpc(req: IncomingMessage, res: ServerResponse, url: URL) {
    void answerQuery(req, res, url).then(
      (answered) => answered || trpc(req, res),
      (err: unknown) => {
        // Only before any procedure ran (trpc-queries.ts answers 500 itself after that).
        log.error({ err, ...requestLogFields(req) }, 'tRPC query fast path failed');
        if (!res.headersSent) trpc(req, res);
      },
    );
  }

  /**
   * An order stream whose user already holds the most this replica allows: refused here, with 429
   * as the status (tRPC answers an SSE request 200 before its procedure runs). A missing or bad
   * token is left to tRPC, which refuses it itself.
   */
  async function streamRefusal(req: IncomingMessage, url: URL): Promise<boolean> {
    if (!/^\/trpc\/orders\.onChange\/?$/.test(url.pathname)) return false;
    let connectionParams: Record<string, string | undefined> | null = null;
    try {
      connectionParams = JSON.parse(url.searchParams.get('connectionParams') ?? 'null');
    } catch {
      return false;
    }
    const token = readToken(req, connectionParams);
    if (!token) return false;
    const user = await deps.tokens.verify(token, callMetadataOf(req)).catch(() => undefined);
    return user !== undefined && deps.orderFeed.isFull(user.id);
  }

  function handle(req: IncomingMessage, res: ServerResponse, requestId: string) {
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('X-Served-By', replica);
    res.setHeader('X-Content-Type-Options', 'nosniff');

    const url = new URL(req.url ?? '/', 'http://bff');
    // One table decides both what answers and the `route` label of the metrics.
    const { endpoint, label } = endpointOf(url.pathname, req.headers.accept);
    const started = performance.now();
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const method = METHODS.has(req.method ?? '') ? req.method! : 'other';
      httpDuration.observe({ route: label, method, status: String(res.statusCode) }, seconds);
      // The path only: a query string may carry a token (SSE connectionParams).
      if (log.isLevelEnabled('debug')) {
        const ms = Math.round(seconds * 1e4) / 10;
        log.debug({ requestId, method: req.method, path: url.pathname, status: res.statusCode, ms }, 'request');
      }
    });
    if (endpoint === 'trpc' || endpoint === 'trpc_sse') {
      const calls = batchCalls(url);
      if (calls > MAX_BATCH_CALLS) return tooManyCalls(res, calls);
      if (endpoint === 'trpc_sse') {
        streams.add(res);
        res.once('close', () => streams.delete(res));
        return void streamRefusal(req, url).then(
          (refused) => {
            if (refused) return sendTrpcError(res, OrderFeed.tooManyStreams(), 'orders.onChange', { 'Retry-After': '5' });
            if (!config.TRPC_FAST_QUERIES) return trpc(req, res);
            answerTrpc(req, res, url);
          },
          (err: unknown) => {
            // The check is a courtesy (watch counts again): on any trouble, let tRPC answer.
            log.warn({ err, requestId }, 'stream admission check failed');
            if (!res.headersSent) trpc(req, res);
          },
        );
      }
      if (!config.TRPC_FAST_QUERIES) return trpc(req, res);
      return answerTrpc(req, res, url);
    }
    if (endpoint === 'rest' || endpoint === 'openapi' || endpoint === 'docs') return void rest(req, res, url, endpoint);
    if (endpoint === 'healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      return void clients.authReachable(callMetadataOf(req)).then((ok) => {
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify(ok ? { ok: true, replica } : { ok: false, replica, error: 'auth service unreachable' }));
      });
    }
    // Only straight from a scraper: a request that came through Nginx has X-Forwarded-For.
    if (endpoint === 'metrics' && (req.method === 'GET' || req.method === 'HEAD') && req.headers['x-forwarded-for'] === undefined) {
      return void registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType, 'Cache-Control': 'no-store' });
          res.end(text);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics collection failed');
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end('metrics collection failed\n');
        },
      );
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${url.pathname}` } }));
  }

  // Slow or stalled clients cannot hold a connection open forever (SSE streams are pinged).
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.BFF_PORT, config.BFF_HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  replica ||= `bff-${port}`;
  log.info({ port, host: config.BFF_HOST, replica }, 'bff listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      log.info({ replica }, 'bff shutting down');
      // Subscriptions end with SERVICE_UNAVAILABLE, which tells their clients to reconnect.
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_GRACE_MS);
      setTimeout(() => {
        for (const res of streams) res.destroy();
      }, 200).unref();
      await closed;
      clearTimeout(grace);
      clients.close();
      log.info({ replica }, 'bff stopped');
    })();
    return closing;
  };
  return { port, replica, log, close };
}

// `tsx bff/src/main.ts` runs a replica; importing this module (tests, the stack) does not.
runMain(import.meta.url, 'bff', async () => {
  const bff = await startBff();
  return { stop: bff.close, log: bff.log };
});
