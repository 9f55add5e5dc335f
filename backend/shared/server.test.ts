import { createServer } from 'node:http';
import { CustomersServiceDefinition } from '@pdash/proto/customers/v1/customers';
import { SuppliersServiceDefinition } from '@pdash/proto/suppliers/v1/suppliers';
import { freePort } from '@pdash/scripts/infra';
import { type CallContext, ClientError, Metadata, ServerError, Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { baseEnv, loadConfig } from './config.js';
import { callOptionsWithin, logFieldsOf } from './context.js';
import { createServiceClient } from './grpc-client.js';
import { probe, probeTarget } from './health-probe.js';
import { createLogger } from './logger.js';
import { type RunningService, startService } from './server.js';

/*
 * startService's operations side: the request context a call's handler names in its log lines and
 * passes on to the next service, the metrics port, and the container health probe.
 */

type Line = Record<string, unknown> & { msg: string };
const lines: Line[] = [];
const log = createLogger('test', 'info', { write: (line: string) => void lines.push(JSON.parse(line)) });

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
/** What the downstream service saw in its metadata. */
const seen: { requestId?: string; traceparent?: string }[] = [];

function env(extra: NodeJS.ProcessEnv = {}) {
  return loadConfig(baseEnv, {
    MONGO_URL: inject('mongoUrl'),
    MONGO_DB: 'test_server_observability',
    // No Redis on purpose: a service starts and serves without it.
    REDIS_URL: 'redis://127.0.0.1:1/',
    SHUTDOWN_GRACE_MS: '500',
    ...extra,
  });
}

/** A service implementation with these handlers; every other method answers UNIMPLEMENTED. */
function implement(definition: { methods: object }, handlers: Record<string, (request: never, context: CallContext) => Promise<unknown>>) {
  const unimplemented = async () => {
    throw new ServerError(Status.UNIMPLEMENTED, 'not in this test');
  };
  return Object.fromEntries(Object.keys(definition.methods).map((method) => [method, handlers[method] ?? unimplemented])) as never;
}

let upstream: RunningService;
let downstream: RunningService;
let client: ReturnType<typeof createServiceClient<typeof CustomersServiceDefinition>>;

beforeAll(async () => {
  // "suppliers" answers NOT_FOUND for anything and remembers the metadata it got.
  downstream = await startService({
    name: 'downstream',
    config: env({ METRICS_PORT: '0' }),
    port: await freePort(),
    log,
    setup: () => ({
      names: [SuppliersServiceDefinition.fullName],
      register: (server) =>
        server.add(
          SuppliersServiceDefinition,
          implement(SuppliersServiceDefinition, {
            async get(_request: unknown, context: CallContext) {
              seen.push({ requestId: context.metadata.get('x-request-id'), traceparent: context.metadata.get('traceparent') });
              log.info(logFieldsOf(context), 'downstream handling');
              throw new ServerError(Status.NOT_FOUND, 'no supplier');
            },
          }),
        ),
    }),
  });
  // "customers" logs, calls downstream, and then fails in ways the boundary must translate.
  const suppliers = createServiceClient(SuppliersServiceDefinition, `127.0.0.1:${downstream.port}`);
  upstream = await startService({
    name: 'upstream',
    config: env(),
    port: await freePort(),
    log,
    setup: () => ({
      names: [CustomersServiceDefinition.fullName],
      register: (server) =>
        server.add(
          CustomersServiceDefinition,
          implement(CustomersServiceDefinition, {
            async get(request: { id: string }, context: CallContext) {
              log.info(logFieldsOf(context), 'upstream handling');
              await suppliers.client.get({ id: request.id }, callOptionsWithin(context)).catch(() => {});
              log.info(logFieldsOf(context), 'upstream after the call');
              if (request.id === 'mongo') throw Object.assign(new Error('connection refused'), { name: 'MongoServerSelectionError' });
              if (request.id === 'busy') throw new ServerError(Status.UNAVAILABLE, 'record busy; try again');
              throw new Error('a bug');
            },
          }),
        ),
      close: async () => suppliers.close(),
    }),
  });
  client = createServiceClient(CustomersServiceDefinition, `127.0.0.1:${upstream.port}`);
});

afterAll(async () => {
  client?.close();
  await upstream?.shutdown();
  await downstream?.shutdown();
});

async function callUpstream(id: string, metadata: Record<string, string>) {
  return client.client.get({ id }, { metadata: Metadata(metadata) }).then(
    () => undefined,
    (err: unknown) => err as ClientError,
  );
}

describe('the request context', () => {
  test("a handler's log lines and the call's failure line carry the request id and trace id, and both travel on to the next service", async () => {
    lines.length = 0;
    seen.length = 0;
    const err = await callUpstream('bug', { 'x-request-id': 'req-abc.1', traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` });
    expect(err).toBeInstanceOf(ClientError);
    expect(err?.code).toBe(Status.INTERNAL);
    expect(err?.details).toBe('internal error');

    for (const msg of ['upstream handling', 'upstream after the call', 'downstream handling', 'call failed']) {
      const line = lines.find((l) => l.msg === msg);
      expect(line, msg).toMatchObject({ requestId: 'req-abc.1', traceId: TRACE_ID });
    }
    // The downstream call's parent is the upstream's own span, in the caller's trace.
    expect(seen[0]?.requestId).toBe('req-abc.1');
    const [version, traceId, parent, flags] = (seen[0]?.traceparent ?? '').split('-');
    expect({ version, traceId, flags }).toEqual({ version: '00', traceId: TRACE_ID, flags: '01' });
    expect(parent).toMatch(/^[0-9a-f]{16}$/);
    expect(parent).not.toBe(CALLER_SPAN);
  });

  test('a call without trace context starts a trace; a malformed request id is not logged', async () => {
    lines.length = 0;
    await callUpstream('bug', { 'x-request-id': 'bad id "} forged' });
    const line = lines.find((l) => l.msg === 'upstream handling');
    expect(line?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(line).not.toHaveProperty('requestId');
  });

  test('log lines outside any call carry neither', () => {
    lines.length = 0;
    log.info(logFieldsOf(undefined), 'idle');
    expect(lines[0]).not.toHaveProperty('traceId');
  });

  test('a call made outside any request carries no request id, and starts its own trace downstream', async () => {
    seen.length = 0;
    const direct = createServiceClient(SuppliersServiceDefinition, `127.0.0.1:${downstream.port}`);
    await direct.client.get({ id: 'x' }, callOptionsWithin(undefined)).catch(() => {});
    direct.close();
    expect(seen[0]?.requestId).toBeUndefined();
    expect(seen[0]?.traceparent).toBeUndefined();
  });
});

describe('deliberate answers', () => {
  test('a 503 the handler chose is logged with its reason, as a warning; other chosen errors are not logged', async () => {
    lines.length = 0;
    const err = await callUpstream('busy', { 'x-request-id': 'req-busy-1' });
    expect(err?.code).toBe(Status.UNAVAILABLE);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'call unavailable', reason: 'record busy; try again', requestId: 'req-busy-1', level: 40 }),
    );
    lines.length = 0;
    await callUpstream('bug', {});
    expect(lines.filter((line) => line.msg === 'call unavailable')).toEqual([]);
  });
});

describe('the metrics port', () => {
  test('serves calls by method and status, and MongoDB errors, as Prometheus text', async () => {
    const err = await callUpstream('mongo', {});
    expect(err?.code).toBe(Status.UNAVAILABLE);
    expect(upstream.metricsPort).toBe(upstream.port + 1000);

    const res = await fetch(`http://127.0.0.1:${upstream.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(
      /pdash_grpc_server_duration_seconds_count\{method="\/pdash\.customers\.v1\.CustomersService\/Get",code="INTERNAL"\} \d+/,
    );
    expect(text).toMatch(
      /pdash_grpc_server_duration_seconds_count\{method="\/pdash\.customers\.v1\.CustomersService\/Get",code="UNAVAILABLE"\} \d+/,
    );
    expect(text).toMatch(/pdash_mongo_errors_total\{error="MongoServerSelectionError"\} [1-9]/);
    expect(text).toContain('process_cpu_seconds_total');
    expect((await fetch(`http://127.0.0.1:${upstream.metricsPort}/other`)).status).toBe(404);
  });

  test('METRICS_PORT=0 turns it off; a taken METRICS_PORT stops the start, named', async () => {
    expect(downstream.metricsPort).toBeUndefined();
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const start = startService({
        name: 'clash',
        config: env({ METRICS_PORT: String(port) }),
        port: await freePort(),
        log,
        setup: () => ({ names: [], register: () => {} }),
      });
      await expect(start).rejects.toThrow(`METRICS_PORT ${port}`);
    } finally {
      taken.close();
    }
  });

  test('closes with the service', async () => {
    const service = await startService({
      name: 'short-lived',
      config: env(),
      port: await freePort(),
      log,
      setup: () => ({ names: [], register: () => {} }),
    });
    expect((await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`)).ok).toBe(true);
    await service.shutdown();
    await expect(fetch(`http://127.0.0.1:${service.metricsPort}/metrics`)).rejects.toThrow();
  });
});

describe('the health probe', () => {
  test('probes what the container runs, from its environment', () => {
    expect(probeTarget([], { GRPC_PORT: '50051' })).toEqual({ kind: 'grpc', address: '127.0.0.1:50051', service: '' });
    expect(probeTarget([], { PDASH_SERVICE: 'bff', BFF_PORT: '3000' })).toEqual({ kind: 'http', url: 'http://127.0.0.1:3000/healthz' });
    expect(probeTarget(['grpc', 'orders:50051', 'pdash.orders.v1.OrdersService'])).toMatchObject({ address: 'orders:50051' });
    expect(() => probeTarget(['tcp'])).toThrow(/grpc or http/);
  });

  test('a serving service is healthy; one shutting down or gone is not', async () => {
    const service = await startService({
      name: 'probed',
      config: env({ METRICS_PORT: '0' }),
      port: await freePort(),
      log,
      setup: () => ({ names: [], register: () => {} }),
    });
    const target = probeTarget(['grpc', `127.0.0.1:${service.port}`]);
    await expect(probe(target)).resolves.toMatch(/SERVING/);
    await service.shutdown();
    await expect(probe(target, 1_000)).rejects.toThrow();
  });

  test('http: 2xx is healthy, anything else is not', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 503).end());
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await expect(probe({ kind: 'http', url: `http://127.0.0.1:${port}/healthz` })).resolves.toMatch(/200/);
      await expect(probe({ kind: 'http', url: `http://127.0.0.1:${port}/down` })).rejects.toThrow(/503/);
    } finally {
      server.close();
    }
  });
});
