import { type Bff, missingId, signedIn, startStack, startTestBff } from '@pdash/testing/bff';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/*
 * The tRPC query fast path (trpc-queries.ts) against tRPC's own adapter: two BFF replicas over the
 * same backend, one with the fast path and one without (TRPC_FAST_QUERIES=false), asked the same
 * requests. Status, body and headers must be the same; only the framing differs (the fast path
 * sends a Content-Length, the adapter streams the body in chunks), which also shows which one
 * answered.
 */
let stack: Awaited<ReturnType<typeof startStack>>;
let adapter: Bff;
let token: string;
let customerId: string;

beforeAll(async () => {
  stack = await startStack();
  adapter = await startTestBff(stack.backend, { TRPC_FAST_QUERIES: 'false' });
  const session = await signedIn(stack.bff.url);
  token = session.accessToken;
  customerId = (await session.client.customers.create.mutate({ name: 'Fast path', email: 'fast@example.com' })).id;
  await session.client.suppliers.create.mutate({ name: 'Fast supplier' });
});
afterAll(async () => {
  await adapter?.close();
  await stack?.stop();
});

const input = (value: unknown) => encodeURIComponent(JSON.stringify(value));

async function ask(base: string, path: string, headers: Record<string, string>) {
  const response = await fetch(`${base}${path}`, { headers: { 'x-real-ip': '10.9.8.7', ...headers } });
  const text = await response.text();
  const pick = (name: string) => response.headers.get(name);
  return {
    status: response.status,
    body: parseBody(text),
    headers: { type: pick('content-type'), cache: pick('cache-control'), vary: pick('vary'), retryAfter: pick('retry-after') },
    framedBy: pick('content-length') === null ? 'chunks' : 'length',
  };
}

/** JSON, or JSON lines (a streamed answer). */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
  }
}

/** The same request to both replicas: the answers must match; returns the fast replica's. */
async function compare(
  path: string,
  options: { auth?: 'token' | 'none' | 'garbage'; fast?: boolean; headers?: Record<string, string> } = {},
) {
  const auth = options.auth ?? 'token';
  const headers: Record<string, string> = {
    ...(auth === 'token' ? { authorization: `Bearer ${token}` } : auth === 'garbage' ? { authorization: 'Bearer not.a.token' } : {}),
    ...options.headers,
  };
  const [fast, slow] = await Promise.all([ask(stack.bff.url, path, headers), ask(adapter.url, path, headers)]);
  expect({ status: fast.status, body: fast.body, headers: fast.headers }).toEqual({
    status: slow.status,
    body: slow.body,
    headers: slow.headers,
  });
  expect(slow.framedBy).toBe('chunks');
  expect(fast.framedBy).toBe(options.fast === false ? 'chunks' : 'length');
  return fast;
}

describe('tRPC GET queries without the adapter', () => {
  test('a single query, found, missing and with a bad id', async () => {
    const found = await compare(`/trpc/customers.byId?input=${input({ id: customerId })}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ result: { data: { id: customerId, name: 'Fast path' } } });
    expect(found.headers).toMatchObject({ type: 'application/json', cache: 'no-store', vary: 'trpc-accept, accept' });

    const missing = await compare(`/trpc/customers.byId?input=${input({ id: missingId() })}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { data: { code: 'NOT_FOUND', httpStatus: 404, path: 'customers.byId' } } });

    const bad = await compare(`/trpc/customers.byId?input=${input({ id: 'nope' })}`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/id/);
  });

  test('batches: all found, mixed outcomes (207), no input at all', async () => {
    const both = await compare(`/trpc/customers.byId,customers.list?batch=1&input=${input({ 0: { id: customerId }, 1: { limit: 5 } })}`);
    expect(both.status).toBe(200);
    expect(both.body).toHaveLength(2);

    const mixed = await compare(
      `/trpc/customers.byId,customers.byId,suppliers.list?batch=1&input=${input({ 0: { id: customerId }, 1: { id: missingId() }, 2: {} })}`,
    );
    expect(mixed.status).toBe(207);
    expect((mixed.body as { error?: unknown }[]).map((answer) => 'error' in answer)).toEqual([false, true, false]);

    const noInput = await compare('/trpc/auth.me,orders.stats?batch=1');
    expect(noInput.status).toBe(200);
  });

  test('tokens: none, garbage', async () => {
    const none = await compare(`/trpc/customers.byId?input=${input({ id: customerId })}`, { auth: 'none' });
    expect(none.status).toBe(401);
    const garbage = await compare(`/trpc/customers.byId,auth.me?batch=1&input=${input({ 0: { id: customerId } })}`, { auth: 'garbage' });
    expect(garbage.status).toBe(401);
  });

  test('what it leaves to the adapter: a token in connectionParams, streamed answers', async () => {
    const viaParams = await compare(`/trpc/auth.me?connectionParams=${input({ token })}`, { auth: 'none', fast: false });
    expect(viaParams.status).toBe(200);
    await compare(`/trpc/customers.byId?batch=1&input=${input({ 0: { id: customerId } })}`, {
      fast: false,
      headers: { accept: 'application/jsonl' },
    });
  });

  test('what it leaves to the adapter: mutations, unknown procedures, malformed input', async () => {
    expect((await compare(`/trpc/customers.create?input=${input({ name: 'x' })}`, { fast: false })).status).toBe(405);
    expect((await compare('/trpc/customers.nothing', { fast: false })).status).toBe(404);
    expect((await compare('/trpc/customers.byId?input=%7Bnot-json', { fast: false })).status).toBe(400);
    await compare(`/trpc/customers.byId?batch=2&input=${input({ 0: { id: customerId } })}`, { fast: false });
  });
});
