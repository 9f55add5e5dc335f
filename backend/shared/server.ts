import { isAbortError } from 'abort-controller-x';
import type { Db, MongoClient } from 'mongodb';
import { type CallContext, createServer, type Server, ServerError, type ServerMiddlewareCall, Status } from 'nice-grpc';
import { RichServerError } from 'nice-grpc-error-details';
import { HealthDefinition, HealthServiceImpl, HealthState } from 'nice-grpc-server-health';
import type { z } from 'zod';
import type { baseEnv } from './config.js';
import { contextFrom, logFields, setRequest } from './context.js';
import { toPublicError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { mongoErrors, rpcDuration, startMetricsServer } from './metrics.js';
import { connectMongo, watchMonitor } from './mongo.js';
import { createRedis, type Redis } from './redis.js';
import { encodeStatus } from './rpc-status.js';

export type BaseConfig = z.output<typeof baseEnv>;

const MAX_CONNECTION_AGE_MS = 5 * 60_000;

export interface ServiceDeps<C extends BaseConfig> {
  config: C;
  log: Logger;
  db: Db;
  redis: Redis;
  /** Aborted when the service starts shutting down; long-lived work (streams, loops) ends with it. */
  stopping: AbortSignal;
}

export interface ServiceParts {
  /** Adds the service's gRPC implementations to the server. */
  register(server: Server): void;
  /** Fully-qualified names of the services, reported as serving by the health service. */
  names: string[];
  /** Releases what setup made (clients, timers), before MongoDB and Redis close. */
  close?(): Promise<void>;
}

export interface RunningService {
  port: number;
  /** Where Prometheus metrics are served; undefined when off (METRICS_PORT). */
  metricsPort?: number;
  log: Logger;
  shutdown(): Promise<void>;
  /** The same as shutdown, by the name runMain (main.ts) calls. */
  stop(): Promise<void>;
}

/**
 * The "service defaults" of every backend process: logger, MongoDB, Redis, the gRPC server with
 * health, logging, metrics and error middleware, a metrics port, and graceful shutdown. A service
 * only supplies `setup`.
 */
export async function startService<C extends BaseConfig>(options: {
  name: string;
  config: C;
  port: number;
  setup(deps: ServiceDeps<C>): Promise<ServiceParts> | ServiceParts;
  log?: Logger;
}): Promise<RunningService> {
  const { name, config } = options;
  const log = options.log ?? createLogger(name, config.LOG_LEVEL);
  const stopping = new AbortController();
  const { client: mongo, db } = await connectMongo(config.MONGO_URL, config.MONGO_DB);
  const stopWatchingMongo = watchMonitor(mongo, log);
  const redis = createRedis(config.REDIS_URL, log, { name: `pdash-${name}` });

  const parts = await options.setup({ config, log, db, redis, stopping: stopping.signal });
  const health = HealthState();
  const server = createServer({
    'grpc.keepalive_permit_without_calls': 1,
    // A client keeps one HTTP/2 connection for as long as it can; behind a Kubernetes Service that
    // pins it to one replica. Asking clients to reconnect now and then (calls in flight finish,
    // streams included) spreads them over replicas added since.
    'grpc.max_connection_age_ms': MAX_CONNECTION_AGE_MS,
    // As for the clients (grpc-client.ts): no channelz bookkeeping on every call.
    'grpc.enable_channelz': 0,
  }).use(callMiddleware(log, stopping.signal));
  server.add(HealthDefinition, HealthServiceImpl(health));
  parts.register(server);
  const port = await server.listen(`${config.GRPC_HOST}:${options.port}`);
  for (const serviceName of parts.names) health.setStatus('healthy', serviceName);
  log.info({ port, host: config.GRPC_HOST }, `${name} listening`);

  let metrics: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  let done: Promise<void> | undefined;
  const shutdown = () => {
    done ??= (async () => {
      log.info(`${name} shutting down`);
      health.setStatus('unhealthy');
      for (const serviceName of parts.names) health.setStatus('unhealthy', serviceName);
      stopping.abort();
      await withTimeout(server.shutdown(), config.SHUTDOWN_GRACE_MS).catch(() => server.forceShutdown());
      await parts.close?.();
      await stopWatchingMongo();
      await Promise.all([closeQuietly(mongo, redis), metrics?.close()]);
      log.info(`${name} stopped`);
    })();
    return done;
  };
  try {
    metrics = await startServiceMetrics(config, options.port, log);
  } catch (err) {
    await shutdown();
    throw err;
  }
  return { port, metricsPort: metrics?.port, log, shutdown, stop: shutdown };
}

/**
 * The metrics port: METRICS_PORT, or the gRPC port + 1000. A derived port that is taken only
 * turns metrics off (with a warning), so that a service never fails for want of it; one set
 * explicitly must be had. A gRPC port picked at random (0) has no derived metrics port.
 */
async function startServiceMetrics(config: BaseConfig, grpcPort: number, log: Logger) {
  const explicit = config.METRICS_PORT !== undefined;
  const port = config.METRICS_PORT ?? (grpcPort === 0 || grpcPort + 1000 > 65_535 ? 0 : grpcPort + 1000);
  if (port === 0) return undefined;
  try {
    const metrics = await startMetricsServer({ host: config.METRICS_HOST, port, log });
    log.info({ port: metrics.port, host: config.METRICS_HOST }, 'metrics at /metrics');
    return metrics;
  } catch (err) {
    if (explicit) throw new Error(`METRICS_PORT ${port}: ${(err as Error).message}`);
    log.warn({ err, port }, 'metrics port unavailable; metrics are off (set METRICS_PORT)');
    return undefined;
  }
}

/** MongoDB driver errors, by the names the driver gives them. */
const MONGO_ERROR = /^(Mongo\w*Error|Pool(Cleared|Closed)Error)$/;

/**
 * Per call: the request context from metadata (request id, trace; kept on the call's context for
 * the handler: context.ts), a duration metric, one log line for failures, and the error boundary: anything
 * that is not a deliberate ServerError leaves as a generic status, a RichServerError with its
 * details. Streaming calls also end when
 * the service stops, so shutdown never waits on a watcher.
 */
function callMiddleware(log: Logger, stopping: AbortSignal) {
  return async function* middleware<Req, Res>(call: ServerMiddlewareCall<Req, Res>, context: CallContext) {
    const started = performance.now();
    let code: Status = Status.OK;
    const ctx = call.responseStream ? { ...context, signal: AbortSignal.any([context.signal, stopping]) } : context;
    const request = contextFrom(context.metadata.get('x-request-id'), context.metadata.get('traceparent'));
    setRequest(ctx, request);
    try {
      const steps = call.next(call.request, ctx) as AsyncGenerator<Res, Res | undefined, undefined>;
      // A unary call is one step: no generator around it.
      if (!call.responseStream) return (await steps.next()).value as Res;
      return yield* steps;
    } catch (err) {
      if (isAbortError(err)) {
        code = Status.CANCELLED;
        throw err;
      }
      const publicError = toPublicError(err);
      code = publicError.code;
      // The error's google.rpc details (reason, retry delay, bad rows) in the status trailer, as
      // nice-grpc-error-details' server middleware sets them (here, one middleware fewer per call).
      if (publicError instanceof RichServerError)
        context.trailer.set('grpc-status-details-bin', encodeStatus(publicError.code, publicError.details, publicError.extra));
      const errorName = err instanceof Error ? err.name : '';
      if (MONGO_ERROR.test(errorName)) mongoErrors.inc({ error: errorName });
      if (!(err instanceof ServerError)) {
        log.error({ err, method: call.method.path, ...logFields(request) }, 'call failed');
      } else if (publicError.code === Status.UNAVAILABLE) {
        // A deliberate 503 (busy, a dependency away): why, for whoever sees the retry.
        log.warn({ method: call.method.path, ...logFields(request), reason: publicError.details }, 'call unavailable');
      }
      throw publicError;
    } finally {
      rpcDuration.observe({ method: call.method.path, code: Status[code] }, (performance.now() - started) / 1000);
    }
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

async function closeQuietly(mongo: MongoClient, redis: Redis) {
  await Promise.allSettled([mongo.close(), redis.quit().catch(() => redis.disconnect())]);
}
