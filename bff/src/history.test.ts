import { adminToken, missingId, rest, signedIn, startStack, trpcClient, trpcError } from '@pdash/testing/bff';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/*
 * The history (API.md "History (audit)") through real servers: every acknowledged change leaves
 * exactly one entry, naming who made it and only the fields it changed; audit.list filters and
 * pages newest first; entries about users are for admins. (Its no-loss promise under crashes is
 * the chaos run's audit ledger, tests/chaos; the outbox's steps are backend/shared/audit.test.ts.)
 */

let stack: Awaited<ReturnType<typeof startStack>>;
let url: string;
let admin: ReturnType<typeof trpcClient>;

beforeAll(async () => {
  stack = await startStack();
  url = stack.bff.url;
  admin = trpcClient(url, { token: await adminToken(url) });
});
afterAll(() => stack?.stop());

describe('audit.list', () => {
  test('a customer created, updated twice and deleted: four entries, newest first, with the changed fields only', async () => {
    const editor = await signedIn(url, 'editor');
    const c = await editor.client.customers.create.mutate({ name: 'Audited', email: 'a@example.com' });
    await editor.client.customers.update.mutate({ id: c.id, name: 'Audited again', version: 1 });
    await editor.client.customers.update.mutate({ id: c.id, email: '', phone: '+1 555 0100' });
    await editor.client.customers.delete.mutate({ id: c.id });
    const { items, nextCursor } = await editor.client.audit.list.query({ entity: 'customer', entityId: c.id });
    expect(nextCursor).toBeNull();
    const actor = { id: editor.user.id, username: editor.user.username };
    expect(items.map((e) => [e.action, e.actor, e.entity, e.entityId])).toEqual([
      ['deleted', actor, 'customer', c.id],
      ['updated', actor, 'customer', c.id],
      ['updated', actor, 'customer', c.id],
      ['created', actor, 'customer', c.id],
    ]);
    expect(items.map((e) => e.changes)).toEqual([
      { name: { from: 'Audited again' }, phone: { from: '+1 555 0100' } },
      { email: { from: 'a@example.com' }, phone: { to: '+1 555 0100' } },
      { name: { from: 'Audited', to: 'Audited again' } },
      { name: { to: 'Audited' }, email: { to: 'a@example.com' } },
    ]);
    expect(Date.parse(items[3]!.at)).toBe(Date.parse(c.createdAt));
  });

  test('orders and suppliers too; a failed write leaves no entry', async () => {
    const editor = await signedIn(url, 'editor');
    const supplier = await editor.client.suppliers.create.mutate({ name: 'Audited supplier' });
    const customer = await editor.client.customers.create.mutate({ name: 'Audited buyer' });
    const order = await editor.client.orders.create.mutate({ customerId: customer.id, supplierId: supplier.id, totalCents: 500 });
    await editor.client.orders.update.mutate({ id: order.id, totalCents: 750 });
    // Refused writes: a stale version, a missing reference, a delete of a supplier with orders.
    await trpcError(editor.client.orders.update.mutate({ id: order.id, totalCents: 1, version: 1 }), 'CONFLICT');
    await trpcError(editor.client.orders.update.mutate({ id: order.id, customerId: missingId() }), 'UNPROCESSABLE_CONTENT');
    await trpcError(editor.client.suppliers.delete.mutate({ id: supplier.id }), 'CONFLICT');
    const orderHistory = await editor.client.audit.list.query({ entity: 'order', entityId: order.id });
    expect(orderHistory.items.map((e) => [e.action, e.changes])).toEqual([
      ['updated', { totalCents: { from: 500, to: 750 } }],
      ['created', { customerId: { to: customer.id }, supplierId: { to: supplier.id }, totalCents: { to: 500 } }],
    ]);
    const supplierHistory = await editor.client.audit.list.query({ entity: 'supplier', entityId: supplier.id });
    expect(supplierHistory.items.map((e) => e.action)).toEqual(['created']);
  });

  test('filters by actor and pages with a cursor, over tRPC and REST', async () => {
    const editor = await signedIn(url, 'editor');
    for (let i = 0; i < 5; i++) await editor.client.suppliers.create.mutate({ name: `Paged ${i}` });
    const first = await editor.client.audit.list.query({ actorId: editor.user.id, limit: 2 });
    expect(first.items.map((e) => e.changes.name?.to)).toEqual(['Paged 4', 'Paged 3']);
    const second = await editor.client.audit.list.query({ actorId: editor.user.id, limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((e) => e.changes.name?.to)).toEqual(['Paged 2', 'Paged 1']);
    const viaRest = await rest(url, 'GET', `/api/audit?actorId=${editor.user.id}&limit=10`, { token: editor.accessToken });
    expect(viaRest.status).toBe(200);
    expect(viaRest.body.items).toHaveLength(5);
    expect(viaRest.body.nextCursor).toBeNull();
    expect((await rest(url, 'GET', '/api/audit?entity=invoice', { token: editor.accessToken })).status).toBe(400);
    expect((await rest(url, 'GET', '/api/audit?entityId=nope', { token: editor.accessToken })).status).toBe(400);
    expect((await rest(url, 'GET', '/api/audit')).status).toBe(401);
  });

  test('sign-ups, invitations and user changes are recorded, and shown to admins only', async () => {
    const viewer = await signedIn(url, 'viewer');
    await admin.users.update.mutate({ id: viewer.user.id, role: 'editor' });
    const about = await admin.audit.list.query({ entity: 'user', entityId: viewer.user.id });
    const me = await admin.auth.me.query();
    expect(about.items.map((e) => [e.action, e.actor?.username, e.changes])).toEqual([
      ['updated', me.username, { role: { from: 'viewer', to: 'editor' } }],
      ['signed_up', viewer.user.username, expect.objectContaining({ role: { to: 'viewer' }, username: { to: viewer.user.username } })],
    ]);
    const invites = await admin.audit.list.query({ entity: 'user', actorId: me.id, limit: 100 });
    expect(invites.items.some((e) => e.action === 'invited' && e.changes.role?.to === 'viewer')).toBe(true);
    await trpcError(viewer.client.audit.list.query({ entity: 'user' }), 'FORBIDDEN', /admin needed/);
    const all = await viewer.client.audit.list.query({ limit: 100 });
    expect(all.items.every((e) => e.entity !== 'user')).toBe(true);
    expect((await admin.audit.list.query({ limit: 100 })).items.some((e) => e.entity === 'user')).toBe(true);
  });

  test('no API changes or deletes an entry', async () => {
    const procedures = Object.keys((await import('./routers/index.js')).appRouter._def.procedures);
    expect(procedures.filter((p) => p.startsWith('audit.'))).toEqual(['audit.list']);
    const token = await adminToken(url);
    for (const method of ['POST', 'PATCH', 'DELETE', 'PUT']) {
      expect((await rest(url, method, '/api/audit', { token, body: {} })).status).toBeGreaterThanOrEqual(404);
    }
  });
});
