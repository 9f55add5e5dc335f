import { freePort } from '@pdash/scripts/infra';
import { rest } from '@pdash/testing/bff';
import { createServer, type Server } from 'nice-grpc';
import { HealthCheckResponse_ServingStatus, HealthDefinition } from 'nice-grpc-server-health/lib/proto/grpc/health/v1/health.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startBff } from './main.js';
import { routeOf, secondsSinceEventId } from './metrics.js';

/*
 * The BFF's operations side, without a backend: a stand-in auth service answers the health
 * checks behind /healthz and remembers the metadata they carried.
 */

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const seen: { requestId?: string; traceparent?: string }[] = [];
const logLines: Record<string, unknown>[] = [];
let auth: Server;
let bff: Awaited<ReturnType<typeof startBff>>;
let url: string;

beforeAll(async () => {
  auth = createServer();
  auth.add(HealthDefinition, {
    async check(_request, context) {
      seen.push({ requestId: context.metadata.get('x-request-id'), traceparent: context.metadata.get('traceparent') });
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
    // biome-ignore lint/correctness/useYield: never watched here
    async *watch() {
      throw new Error('not in this test');
    },
  });
  const authPort = await auth.listen('127.0.0.1:0');
  bff = await startBff(
    {
      BFF_PORT: String(await freePort()),
      AUTH_ADDR: `127.0.0.1:${authPort}`,
      CUSTOMERS_ADDR: '127.0.0.1:1',
      SUPPLIERS_ADDR: '127.0.0.1:1',
      ORDERS_ADDR: '127.0.0.1:1',
      LOG_LEVEL: 'warn',
    },
    { logTo: { write: (line: string) => logLines.push(JSON.parse(line)) } },
  );
  url = `http://127.0.0.1:${bff.port}`;
});

afterAll(async () => {
  await bff?.close();
  await auth?.shutdown();
});

const metrics = async (headers: Record<string, string> = {}) => {
  const res = await fetch(`${url}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};

describe('trace context', () => {
  test("an HTTP request's traceparent and request id go on to the backend in gRPC metadata, under a span of the BFF's", async () => {
    seen.length = 0;
    const res = await fetch(`${url}/healthz`, {
      headers: { 'x-request-id': 'nginx-req-1', traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` },
    });
    expect(res.status).toBe(200);
    expect(seen[0]?.requestId).toBe('nginx-req-1');
    expect(seen[0]?.traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(seen[0]?.traceparent).not.toContain('b7ad6b7169203331');
  });

  test("a failure's log line names the request and its trace", async () => {
    logLines.length = 0;
    const res = await rest(url, 'GET', `/api/customers/${'a'.repeat(24)}`, {
      token: 'a-token',
      headers: { 'x-request-id': 'nginx-req-2', traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` },
    });
    // the stand-in auth service does not verify tokens: a failure of ours, logged as an error
    expect(res.status).toBe(500);
    expect(logLines).toContainEqual(expect.objectContaining({ msg: 'request failed', requestId: 'nginx-req-2', traceId: TRACE_ID }));
  });

  test('a request without one starts a trace', async () => {
    seen.length = 0;
    await fetch(`${url}/healthz`);
    expect(seen[0]?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});

describe('GET /metrics', () => {
  test('counts requests by route and status, and procedures by transport and outcome', async () => {
    await fetch(`${url}/trpc/customers.list`);
    await rest(url, 'GET', '/api/customers');
    await rest(url, 'POST', '/api/auth/login', { body: { username: 'someone', password: 'a password' } });
    const { status, type, text } = await metrics();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain/);
    expect(text).toMatch(/pdash_bff_http_request_duration_seconds_count\{route="healthz",method="GET",status="200"\} [1-9]/);
    expect(text).toMatch(/pdash_bff_http_request_duration_seconds_count\{route="trpc",method="GET",status="401"\} [1-9]/);
    const procedure = (labels: string) => new RegExp(`pdash_bff_procedure_duration_seconds_count\\{${labels}\\} [1-9]`);
    expect(text).toMatch(procedure('procedure="customers.list",type="query",transport="trpc",outcome="UNAUTHORIZED"'));
    expect(text).toMatch(procedure('procedure="customers.list",type="query",transport="rest",outcome="UNAUTHORIZED"'));
    // The stand-in has no auth service: the login fails as a backend failure would.
    expect(text).toMatch(procedure('procedure="auth.login",type="mutation",transport="rest",outcome="INTERNAL_SERVER_ERROR"'));
    expect(text).toContain('pdash_bff_sse_subscribers 0');
    expect(text).toContain('# TYPE pdash_bff_event_lag_seconds histogram');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });

  test('is not answered to a request that came through Nginx', async () => {
    const { status } = await metrics({ 'x-forwarded-for': '203.0.113.9' });
    expect(status).toBe(404);
  });
});

test('event lag comes from the Redis stream id; routes are a fixed set', () => {
  expect(secondsSinceEventId('1700000000000-3', 1700000001500)).toBe(1.5);
  expect(secondsSinceEventId('garbage')).toBeUndefined();
  expect(routeOf('/trpc/orders.onChange', 'text/event-stream')).toBe('trpc_sse');
  expect(routeOf('/trpc/customers.list,orders.stats', undefined)).toBe('trpc');
  expect(routeOf('/api/orders/65f000000000000000000000', undefined)).toBe('rest');
  expect(routeOf('/api/docs/swagger-ui.css', undefined)).toBe('docs');
  expect(routeOf('/wp-admin', undefined)).toBe('other');
});
