import SwaggerParser from '@apidevtools/swagger-parser';
import { rpcDuration } from '@pdash/backend-shared/metrics';
import { missingId, rest, signedIn, startStack, type TrpcClient, trpcClient, trpcError } from '@pdash/testing/bff';
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openApiDocument } from './rest.js';

let stack: Awaited<ReturnType<typeof startStack>>;
let client: TrpcClient;
let token: string;
let url: string;

beforeAll(async () => {
  stack = await startStack();
  url = stack.bff.url;
  ({ client, accessToken: token } = await signedIn(url));
});
afterAll(() => stack?.stop());

/** gRPC calls the backend services (in this process) have handled, from their own metrics. */
async function callsOf(service: 'customers' | 'suppliers', method: string) {
  const path = `/pdash.${service}.v1.${service === 'customers' ? 'Customers' : 'Suppliers'}Service/${method}`;
  const { values } = await rpcDuration.get();
  return values.filter((v) => v.metricName?.endsWith('_count') && v.labels.method === path).reduce((sum, v) => sum + v.value, 0);
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe.each(['customers', 'suppliers'] as const)('%s via tRPC', (kind) => {
  const one = kind === 'customers' ? 'customer' : 'supplier';
  const api = () => client[kind];

  test('create, byId, update with and without version, delete', async () => {
    const created = await api().create.mutate({ name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000' });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      createdAt: expect.stringMatching(TIMESTAMP),
      updatedAt: expect.stringMatching(TIMESTAMP),
      version: 1,
    });
    expect(await api().byId.query({ id: created.id })).toEqual(created);

    const renamed = await api().update.mutate({ id: created.id, name: 'Ada King', version: 1 });
    expect(renamed).toMatchObject({ name: 'Ada King', version: 2, email: 'ada@example.com' });
    await trpcError(api().update.mutate({ id: created.id, name: 'Stale', version: 1 }), 'CONFLICT', /version 1/);
    expect((await api().byId.query({ id: created.id })).name).toBe('Ada King');
    // An empty string removes an optional field; no version: last writer wins.
    const noEmail = await api().update.mutate({ id: created.id, email: '' });
    expect(noEmail).not.toHaveProperty('email');
    expect(noEmail.version).toBe(3);

    expect(await api().delete.mutate({ id: created.id })).toEqual({ id: created.id });
    await trpcError(api().byId.query({ id: created.id }), 'NOT_FOUND', new RegExp(`no ${one} ${created.id}`));
    await trpcError(api().delete.mutate({ id: created.id }), 'NOT_FOUND');
    await trpcError(api().update.mutate({ id: created.id, name: 'Ghost' }), 'NOT_FOUND');
  });

  test('an address: kept, shown, changed, removed; at most 200 characters', async () => {
    const created = await api().create.mutate({ name: 'Addressed', address: '1 Main St, Springfield' });
    expect(created.address).toBe('1 Main St, Springfield');
    expect(await api().byId.query({ id: created.id })).toMatchObject({ address: '1 Main St, Springfield' });
    expect((await api().list.query({ q: 'Addressed' })).items.find((p) => p.id === created.id)?.address).toBe('1 Main St, Springfield');
    expect(await api().update.mutate({ id: created.id, address: '2 Elm St' })).toMatchObject({ address: '2 Elm St', version: 2 });
    expect(await api().update.mutate({ id: created.id, address: '' })).not.toHaveProperty('address');
    await trpcError(
      api().create.mutate({ name: 'A', address: 'x'.repeat(201) }),
      'BAD_REQUEST',
      /^address: must be at most 200 characters$/,
    );
  });

  test('list: search, page size, cursor, total', async () => {
    const tag = `Pager ${kind} ${Date.now()}`;
    for (let i = 0; i < 5; i++) await api().create.mutate({ name: `${tag} ${i}` });
    const first = await api().list.query({ q: tag.toLowerCase(), limit: 2 });
    expect(first.total).toBe(5);
    expect(first.items.map((c) => c.name)).toEqual([`${tag} 4`, `${tag} 3`]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await api().list.query({ q: tag, limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((c) => c.name)).toEqual([`${tag} 2`, `${tag} 1`]);
    const last = await api().list.query({ q: tag, limit: 2, cursor: second.nextCursor! });
    expect(last.items.map((c) => c.name)).toEqual([`${tag} 0`]);
    expect(last.nextCursor).toBeNull();
    expect((await api().list.query()).items.length).toBeGreaterThanOrEqual(5);
  });

  test('bad input is BAD_REQUEST naming the field', async () => {
    await trpcError(api().byId.query({ id: 'nope' }), 'BAD_REQUEST', /^id: must be a 24-character hex ObjectId$/);
    await trpcError(api().create.mutate({ name: '' }), 'BAD_REQUEST', /^name: must not be empty$/);
    await trpcError(api().create.mutate({ name: 'x'.repeat(201) }), 'BAD_REQUEST', /^name: must be at most 200 characters$/);
    await trpcError(api().create.mutate({ name: 'A', email: 'not an email' }), 'BAD_REQUEST', /^email: /);
    // @ts-expect-error unknown keys are refused, not ignored
    await trpcError(api().create.mutate({ name: 'A', admin: true }), 'BAD_REQUEST', /^admin: unknown field$/);
    // @ts-expect-error name is required
    await trpcError(api().create.mutate({}), 'BAD_REQUEST', /^name: is required$/);
    await trpcError(api().list.query({ limit: 0 }), 'BAD_REQUEST', /^limit: must be 1\.\.100$/);
    await trpcError(api().list.query({ limit: 101 }), 'BAD_REQUEST', /^limit: must be 1\.\.100$/);
    await trpcError(api().list.query({ cursor: 'garbage' }), 'BAD_REQUEST', /^cursor: /);
    await trpcError(api().update.mutate({ id: missingId(), version: 0 }), 'BAD_REQUEST', /^version: must be 1 or more$/);
  });
});

describe('orders via tRPC', () => {
  test('create, byId and list carry the customer and supplier names', async () => {
    const [ada, bob] = [await client.customers.create.mutate({ name: 'Ada' }), await client.customers.create.mutate({ name: 'Bob' })];
    const acme = await client.suppliers.create.mutate({ name: 'Acme' });
    const order = await client.orders.create.mutate({ customerId: ada.id, supplierId: acme.id, totalCents: 1999 });
    expect(order).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      customerId: ada.id,
      supplierId: acme.id,
      customerName: 'Ada',
      supplierName: 'Acme',
      totalCents: 1999,
      createdAt: expect.stringMatching(TIMESTAMP),
      updatedAt: expect.stringMatching(TIMESTAMP),
      version: 1,
    });
    await client.orders.create.mutate({ customerId: bob.id, supplierId: acme.id, totalCents: 1 });
    expect(await client.orders.byId.query({ id: order.id })).toEqual(order);

    const bySupplier = await client.orders.list.query({ supplierId: acme.id });
    expect(bySupplier.total).toBe(2);
    expect(bySupplier.items.map((o) => [o.customerName, o.supplierName])).toEqual([
      ['Bob', 'Acme'],
      ['Ada', 'Acme'],
    ]);
    const byCustomer = await client.orders.list.query({ customerId: ada.id, limit: 10 });
    expect(byCustomer.items).toEqual([order]);
    expect(byCustomer.nextCursor).toBeNull();
  });

  test('a page of orders costs one BatchGet per service, whatever its size', async () => {
    const customers = await Promise.all([1, 2, 3, 4, 5].map((i) => client.customers.create.mutate({ name: `Page C${i}` })));
    const suppliers = await Promise.all([1, 2, 3].map((i) => client.suppliers.create.mutate({ name: `Page S${i}` })));
    for (const [i, customer] of customers.entries()) {
      await client.orders.create.mutate({ customerId: customer.id, supplierId: suppliers[i % 3]!.id, totalCents: i });
    }
    const before = { customers: await callsOf('customers', 'BatchGet'), suppliers: await callsOf('suppliers', 'BatchGet') };
    const page = await client.orders.list.query({ limit: 5 });
    expect(page.items.map((o) => o.customerName)).toEqual(['Page C5', 'Page C4', 'Page C3', 'Page C2', 'Page C1']);
    expect(page.items.map((o) => o.supplierName)).toEqual(['Page S2', 'Page S1', 'Page S3', 'Page S2', 'Page S1']);
    expect(await callsOf('customers', 'BatchGet')).toBe(before.customers + 1);
    expect(await callsOf('suppliers', 'BatchGet')).toBe(before.suppliers + 1);
  });

  test('a name whose record is gone is empty', async () => {
    const customer = await client.customers.create.mutate({ name: 'Vanishing' });
    const supplier = await client.suppliers.create.mutate({ name: 'Stays' });
    const order = await client.orders.create.mutate({ customerId: customer.id, supplierId: supplier.id, totalCents: 5 });
    // Behind the services' backs (they never let this happen): the record goes, the order stays.
    await stack.backend.db.collection('customers').deleteOne({ _id: new ObjectId(customer.id) });
    expect(await client.orders.byId.query({ id: order.id })).toMatchObject({ customerName: '', supplierName: 'Stays' });
  });

  test('update, version conflict, delete', async () => {
    const customer = await client.customers.create.mutate({ name: 'C1' });
    const other = await client.customers.create.mutate({ name: 'C2' });
    const supplier = await client.suppliers.create.mutate({ name: 'S1' });
    const order = await client.orders.create.mutate({ customerId: customer.id, supplierId: supplier.id, totalCents: 100 });
    const moved = await client.orders.update.mutate({ id: order.id, customerId: other.id, totalCents: 250, version: 1 });
    expect(moved).toMatchObject({ customerId: other.id, customerName: 'C2', supplierName: 'S1', totalCents: 250, version: 2 });
    await trpcError(client.orders.update.mutate({ id: order.id, totalCents: 1, version: 1 }), 'CONFLICT');
    expect((await client.orders.byId.query({ id: order.id })).totalCents).toBe(250);
    expect(await client.orders.delete.mutate({ id: order.id })).toEqual({ id: order.id });
    await trpcError(client.orders.byId.query({ id: order.id }), 'NOT_FOUND', new RegExp(`no order ${order.id}`));
    await trpcError(client.orders.delete.mutate({ id: order.id }), 'NOT_FOUND');
  });

  test('a missing reference is UNPROCESSABLE_CONTENT naming the field', async () => {
    const customer = await client.customers.create.mutate({ name: 'Real' });
    const supplier = await client.suppliers.create.mutate({ name: 'Real' });
    const ghost = missingId();
    await trpcError(
      client.orders.create.mutate({ customerId: ghost, supplierId: supplier.id, totalCents: 1 }),
      'UNPROCESSABLE_CONTENT',
      /^customerId: /,
    );
    await trpcError(
      client.orders.create.mutate({ customerId: customer.id, supplierId: ghost, totalCents: 1 }),
      'UNPROCESSABLE_CONTENT',
      /^supplierId: /,
    );
    const order = await client.orders.create.mutate({ customerId: customer.id, supplierId: supplier.id, totalCents: 1 });
    await trpcError(client.orders.update.mutate({ id: order.id, supplierId: ghost }), 'UNPROCESSABLE_CONTENT', /^supplierId: /);
  });

  test('deleting a customer or supplier with orders is CONFLICT', async () => {
    const customer = await client.customers.create.mutate({ name: 'Busy' });
    const supplier = await client.suppliers.create.mutate({ name: 'Busy' });
    const order = await client.orders.create.mutate({ customerId: customer.id, supplierId: supplier.id, totalCents: 1 });
    await trpcError(client.customers.delete.mutate({ id: customer.id }), 'CONFLICT', /still has 1 order/);
    await trpcError(client.suppliers.delete.mutate({ id: supplier.id }), 'CONFLICT', /still has 1 order/);
    await client.orders.delete.mutate({ id: order.id });
    await client.customers.delete.mutate({ id: customer.id });
  });

  test('bad input is BAD_REQUEST naming the field', async () => {
    const [a, b] = [missingId(), missingId()];
    await trpcError(
      client.orders.list.query({ customerId: a, supplierId: b }),
      'BAD_REQUEST',
      /^supplierId: give customerId or supplierId, not both$/,
    );
    await trpcError(client.orders.list.query({ customerId: 'xyz' }), 'BAD_REQUEST', /^customerId: must be a 24-character hex ObjectId$/);
    await trpcError(
      client.orders.create.mutate({ customerId: a, supplierId: b, totalCents: 1.5 }),
      'BAD_REQUEST',
      /^totalCents: must be a whole number/,
    );
    await trpcError(
      client.orders.create.mutate({ customerId: a, supplierId: b, totalCents: -1 }),
      'BAD_REQUEST',
      /^totalCents: must not be negative$/,
    );
    await trpcError(client.orders.create.mutate({ customerId: a, supplierId: b, totalCents: 1e12 + 1 }), 'BAD_REQUEST', /^totalCents: /);
    await trpcError(client.orders.stats.query({ days: 0 }), 'BAD_REQUEST', /^days: /);
    await trpcError(client.orders.byId.query({ id: 'ab'.repeat(13) }), 'BAD_REQUEST', /^id: /);
  });

  test('an idempotencyKey makes a retried create return the first order; keys are per user', async () => {
    const customer = await client.customers.create.mutate({ name: 'Once C' });
    const supplier = await client.suppliers.create.mutate({ name: 'Once S' });
    const input = { customerId: customer.id, supplierId: supplier.id, totalCents: 321, idempotencyKey: `retry-${missingId()}` };
    const first = await client.orders.create.mutate(input);
    expect(await client.orders.create.mutate(input)).toEqual(first);
    expect((await client.orders.list.query({ customerId: customer.id })).total).toBe(1);
    await trpcError(
      client.orders.create.mutate({ ...input, totalCents: 322 }),
      'BAD_REQUEST',
      /^idempotencyKey: was already used for a different order/,
    );
    // Another user's create with the same key is another order.
    const other = await signedIn(url);
    expect((await other.client.orders.create.mutate(input)).id).not.toBe(first.id);
    await trpcError(client.orders.create.mutate({ ...input, idempotencyKey: 'has space' }), 'BAD_REQUEST', /^idempotencyKey: /);
  });

  test('stats', async () => {
    const customer = await client.customers.create.mutate({ name: 'Stat C' });
    const supplier = await client.suppliers.create.mutate({ name: 'Stat S' });
    const before = await client.orders.stats.query();
    await client.orders.create.mutate({ customerId: customer.id, supplierId: supplier.id, totalCents: 700 });
    const after = await client.orders.stats.query({ days: 7 });
    expect(before.byDay).toHaveLength(30);
    expect(after.byDay).toHaveLength(7);
    expect(after.byDay.at(-1)).toEqual({
      day: new Date().toISOString().slice(0, 10),
      count: expect.any(Number),
      revenueCents: expect.any(Number),
    });
    expect(after.revenueCents).toBe(before.revenueCents + 700);
    expect(after.bySupplier).toContainEqual({ supplierId: supplier.id, name: 'Stat S', count: 1, revenueCents: 700 });
  });
});

describe('REST fallback', () => {
  const call = (method: string, path: string, body?: unknown) => rest(url, method, path, { token, body });

  test('customers and suppliers: every route with its status', async () => {
    for (const kind of ['customers', 'suppliers']) {
      const created = await call('POST', `/api/${kind}`, { name: 'Rest One', email: 'rest@example.com' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'Rest One', email: 'rest@example.com', version: 1 });
      const { id } = created.body;
      expect(await call('GET', `/api/${kind}/${id}`)).toMatchObject({ status: 200, body: created.body });
      const list = await call('GET', `/api/${kind}?q=rest%20one&limit=1`);
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ items: [{ id }], total: expect.any(Number) });
      expect(await call('PATCH', `/api/${kind}/${id}`, { name: 'Rest Two', version: 1 })).toMatchObject({
        status: 200,
        body: { name: 'Rest Two', version: 2 },
      });
      expect(await call('PATCH', `/api/${kind}/${id}`, { name: 'Rest Three', version: 1 })).toMatchObject({
        status: 409,
        body: { error: { code: 'CONFLICT' } },
      });
      expect(await call('DELETE', `/api/${kind}/${id}`)).toMatchObject({ status: 200, body: { id } });
      const gone = await call('GET', `/api/${kind}/${id}`);
      expect(gone).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: expect.stringContaining(id) } } });
      expect(await call('GET', `/api/${kind}/nope`)).toMatchObject({
        status: 400,
        body: { error: { code: 'BAD_REQUEST', message: 'id: must be a 24-character hex ObjectId' } },
      });
      expect(await call('GET', `/api/${kind}?limit=500`)).toMatchObject({
        status: 400,
        body: { error: { message: 'limit: must be 1..100' } },
      });
      expect(await call('GET', `/api/${kind}?sort=name`)).toMatchObject({
        status: 400,
        body: { error: { message: 'sort: unknown field' } },
      });
      expect(await call('POST', `/api/${kind}`, { name: 'A', extra: 1 })).toMatchObject({
        status: 400,
        body: { error: { message: 'extra: unknown field' } },
      });
      const addressed = await call('POST', `/api/${kind}`, { name: 'Rest Addressed', address: '1 Main St' });
      expect(addressed).toMatchObject({ status: 201, body: { address: '1 Main St' } });
      expect(await call('PATCH', `/api/${kind}/${addressed.body.id}`, { address: 'x'.repeat(201) })).toMatchObject({
        status: 400,
        body: { error: { message: 'address: must be at most 200 characters' } },
      });
    }
  });

  test('orders: every route with its status, 409 delete-with-orders and 422', async () => {
    const customer = (await call('POST', '/api/customers', { name: 'Rest C' })).body;
    const supplier = (await call('POST', '/api/suppliers', { name: 'Rest S' })).body;
    const created = await call('POST', '/api/orders', { customerId: customer.id, supplierId: supplier.id, totalCents: 4200 });
    expect(created).toMatchObject({ status: 201, body: { customerName: 'Rest C', supplierName: 'Rest S', totalCents: 4200 } });
    const { id } = created.body;
    expect(await call('GET', `/api/orders/${id}`)).toMatchObject({ status: 200, body: created.body });
    expect(await call('GET', `/api/orders?customerId=${customer.id}&limit=5`)).toMatchObject({
      status: 200,
      body: { items: [created.body], nextCursor: null, total: 1 },
    });
    expect(await call('GET', `/api/orders?customerId=${customer.id}&supplierId=${supplier.id}`)).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'supplierId: give customerId or supplierId, not both' } },
    });
    expect(await call('GET', '/api/orders/stats?days=3')).toMatchObject({ status: 200, body: { byDay: [{}, {}, {}] } });
    expect(await call('DELETE', `/api/customers/${customer.id}`)).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await call('DELETE', `/api/suppliers/${supplier.id}`)).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    expect(await call('POST', '/api/orders', { customerId: missingId(), supplierId: supplier.id, totalCents: 1 })).toMatchObject({
      status: 422,
      body: { error: { code: 'UNPROCESSABLE_CONTENT', message: expect.stringMatching(/^customerId: /) } },
    });
    expect(await call('PATCH', `/api/orders/${id}`, { totalCents: 1, version: 1 })).toMatchObject({ status: 200, body: { version: 2 } });
    expect(await call('PATCH', `/api/orders/${id}`, { totalCents: 2, version: 1 })).toMatchObject({ status: 409 });
    expect(await call('PATCH', `/api/orders/${id}`, { totalCents: 'lots' })).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/^totalCents: /) } },
    });
    expect(await call('DELETE', `/api/orders/${id}`)).toMatchObject({ status: 200, body: { id } });
    expect(await call('DELETE', `/api/orders/${id}`)).toMatchObject({ status: 404 });
  });

  test('orders: the Idempotency-Key header makes a retried POST return the first order', async () => {
    const customer = (await call('POST', '/api/customers', { name: 'Rest Once C' })).body;
    const supplier = (await call('POST', '/api/suppliers', { name: 'Rest Once S' })).body;
    const body = { customerId: customer.id, supplierId: supplier.id, totalCents: 55 };
    const headers = { 'idempotency-key': `rest-${missingId()}` };
    const first = await rest(url, 'POST', '/api/orders', { token, body, headers });
    expect(first.status).toBe(201);
    expect(await rest(url, 'POST', '/api/orders', { token, body, headers })).toMatchObject({ status: 201, body: first.body });
    // The same key in the body is the same request; a different one is refused.
    expect(await call('POST', '/api/orders', { ...body, idempotencyKey: headers['idempotency-key'] })).toMatchObject({ body: first.body });
    expect(await rest(url, 'POST', '/api/orders', { token, body: { ...body, idempotencyKey: 'other' }, headers })).toMatchObject({
      status: 400,
      body: { error: { message: 'idempotencyKey: differs from the Idempotency-Key header' } },
    });
    expect((await call('GET', `/api/orders?customerId=${customer.id}`)).body.total).toBe(1);
    const post = openApiDocument().paths['/api/orders']!.post as { parameters: { name: string; in: string }[] };
    expect(post.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header' }));
  });

  test('unknown routes, methods, media types and broken JSON', async () => {
    expect(await call('GET', '/api/nothing')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const wrongMethod = await call('PUT', '/api/customers');
    expect(wrongMethod).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_SUPPORTED' } } });
    expect(wrongMethod.headers.get('allow')).toBe('GET, POST');
    expect(await rest(url, 'POST', '/api/customers', { token, headers: { 'content-type': 'text/plain' }, body: 'x' })).toMatchObject({
      status: 415,
    });
    const broken = await fetch(`${url}/api/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ error: { code: 'BAD_REQUEST', message: 'body: is not valid JSON' } });
  });
});

describe('HTTP', () => {
  const twoMiB = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });

  test('a 2 MiB body is 413 on tRPC and REST', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const viaRest = await fetch(`${url}/api/customers`, { method: 'POST', headers, body: twoMiB });
    expect(viaRest.status).toBe(413);
    expect(await viaRest.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    const viaTrpc = await fetch(`${url}/trpc/customers.create`, { method: 'POST', headers, body: twoMiB });
    expect(viaTrpc.status).toBe(413);
    expect(await viaTrpc.json()).toMatchObject({ error: { data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413 } } });
  });

  test('auth.session: always 200, the user when the token holds, null otherwise (tRPC and REST)', async () => {
    const session = await signedIn(url);
    expect(await trpcClient(url).auth.session.query()).toEqual({ user: null });
    expect(await trpcClient(url, { token: 'not-a-token' }).auth.session.query()).toEqual({ user: null });
    expect(await trpcClient(url, { token: session.accessToken }).auth.session.query()).toEqual({ user: session.user });
    expect(await rest(url, 'GET', '/api/auth/session')).toMatchObject({ status: 200, body: { user: null } });
    expect(await rest(url, 'GET', '/api/auth/session', { token: session.accessToken })).toMatchObject({
      status: 200,
      body: { user: { id: session.user.id, username: session.user.username } },
    });
    await trpcClient(url, { token: session.accessToken }).auth.logout.mutate();
    expect(await rest(url, 'GET', '/api/auth/session', { token: session.accessToken })).toMatchObject({
      status: 200,
      body: { user: null },
    });
  });

  test('a tRPC batch carries at most 16 calls: more is refused whole, nothing run', async () => {
    const headers = { authorization: `Bearer ${token}` };
    const batch = (n: number) => {
      const path = Array.from({ length: n }, () => 'customers.list').join(',');
      const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { limit: 1 }]));
      return `${url}/trpc/${path}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
    };
    const before = await callsOf('customers', 'List');
    const refused = await fetch(batch(17), { headers });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      error: { message: 'batch: at most 16 calls per request, not 17', data: { code: 'BAD_REQUEST', httpStatus: 400 } },
    });
    expect(await callsOf('customers', 'List')).toBe(before);
    // ~600 calls in one request line (the 8 KiB line was once the only cap), and a POST batch of mutations.
    const many = Array.from({ length: 600 }, () => 'auth.me').join(',');
    expect((await fetch(`${url}/trpc/${many}?batch=1`, { headers })).status).toBe(400);
    // Commas spelled %2C are commas to tRPC: counted all the same.
    const encoded = Array.from({ length: 17 }, () => 'customers.list').join('%2C');
    const input = encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [i, { limit: 1 }]))));
    expect((await fetch(`${url}/trpc/${encoded}?batch=1&input=${input}`, { headers })).status).toBe(400);
    expect(await callsOf('customers', 'List')).toBe(before);
    const creates = Array.from({ length: 20 }, () => 'customers.create').join(',');
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i, { name: `Batch ${i}` }])));
    const total = (await client.customers.list.query({ q: 'Batch ' })).total;
    const posted = await fetch(`${url}/trpc/${creates}?batch=1`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });
    expect(posted.status).toBe(400);
    expect((await client.customers.list.query({ q: 'Batch ' })).total).toBe(total);
    const allowed = await fetch(batch(16), { headers });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toHaveLength(16);
  });

  test('a REST mutation takes its input from the JSON body only: a query string is refused, never used', async () => {
    const viaUrl = await rest(url, 'POST', '/api/auth/login?username=someone&password=secret123');
    expect(viaUrl).toMatchObject({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'username: POST takes its input from the JSON body only, never the URL' } },
    });
    const { id } = (await rest(url, 'POST', '/api/customers', { token, body: { name: 'Body only' } })).body;
    expect(await rest(url, 'PATCH', `/api/customers/${id}?name=Renamed`, { token, body: { version: 1 } })).toMatchObject({ status: 400 });
    expect(await rest(url, 'DELETE', `/api/customers/${id}?force=1`, { token })).toMatchObject({ status: 400 });
    expect(await rest(url, 'GET', `/api/customers/${id}`, { token })).toMatchObject({
      status: 200,
      body: { name: 'Body only', version: 1 },
    });
  });

  test('every response names the replica and the request', async () => {
    const given = await fetch(`${url}/api/customers`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    expect(given.headers.get('x-served-by')).toBe(stack.bff.replica);
    expect(stack.bff.replica).toBe(`bff-${stack.bff.port}`);
    const made = await fetch(`${url}/trpc/auth.me`);
    expect(made.status).toBe(401);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.headers.get('x-served-by')).toBe(stack.bff.replica);
    // A request id that could smuggle anything into logs or headers is replaced.
    const odd = await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'a b<script>' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('error bodies carry no stack trace or driver text', async () => {
    const response = await fetch(`${url}/trpc/customers.byId?input=${encodeURIComponent(JSON.stringify({ id: 'bad' }))}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { error: unknown };
    expect(response.status).toBe(400);
    expect(body.error).toEqual({
      code: -32600,
      message: 'id: must be a 24-character hex ObjectId',
      data: { code: 'BAD_REQUEST', httpStatus: 400, path: 'customers.byId' },
    });
  });

  test('the OpenAPI document is valid OpenAPI 3 and covers every REST route', async () => {
    const response = await fetch(`${url}/api/openapi.json`);
    expect(response.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: the document is checked by the validator, then field by field
    const document: any = await response.json();
    await SwaggerParser.validate(structuredClone(document));
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/api/auth/login',
        '/api/auth/logout',
        '/api/auth/me',
        '/api/auth/session',
        '/api/auth/signup',
        '/api/customers',
        '/api/customers/{id}',
        '/api/orders',
        '/api/orders/stats',
        '/api/orders/{id}',
        '/api/suppliers',
        '/api/suppliers/{id}',
        '/api/users',
        '/api/users/invites',
        '/api/customers/import',
        '/api/customers/export',
        '/api/suppliers/import',
        '/api/suppliers/export',
        '/api/orders/import',
        '/api/orders/export',
        '/api/users/{id}',
        '/api/audit',
      ].sort(),
    );
    expect(Object.keys(document.paths['/api/orders/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(document.paths['/api/orders'].post.responses).toHaveProperty('422');
    expect(document.paths['/api/auth/login'].post.security).toEqual([]);
    // Every field of a customer, with its limits (address: optional, at most 200 characters).
    for (const path of ['/api/customers', '/api/suppliers']) {
      const body = document.paths[path].post.requestBody.content['application/json'].schema;
      expect(Object.keys(body.properties).sort()).toEqual(['address', 'email', 'name', 'phone']);
      expect(body.required).toEqual(['name']);
      expect(body.properties.address).toMatchObject({ type: 'string', maxLength: 200 });
      const record = document.paths[`${path}/{id}`].get.responses['200'].content['application/json'].schema;
      expect(record.properties).toHaveProperty('address');
      expect(record.required).not.toContain('address');
    }
  });

  test('the docs page is served from npm packages, with no inline script', async () => {
    const page = await fetch(`${url}/api/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, content] of scripts) {
      expect(attributes).toMatch(/src="\/api\/docs\//);
      expect(content?.trim()).toBe('');
    }
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['/api/docs/swagger-ui.css', '/api/docs/swagger-ui-bundle.js', '/api/docs/init.js']) {
      const response = await fetch(`${url}${asset}`);
      expect(response.status, asset).toBe(200);
      expect((await response.text()).length, asset).toBeGreaterThan(asset.endsWith('init.js') ? 10 : 10_000);
    }
    expect((await fetch(`${url}/api/docs/../../package.json`)).status).toBe(404);
  });
});
