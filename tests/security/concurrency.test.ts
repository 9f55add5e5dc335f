import { randomBytes } from 'node:crypto';
import { newUser, rest, signedIn } from '@pdash/testing/bff';
import { startTestStack, type TestStack } from '@pdash/testing/stack';
import { type Db, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Races through Nginx and both BFF replicas: optimistic concurrency on one record, identical
 * sign-ups, and order creation against the deletion of its customer. Checked in MongoDB too.
 */
const MONGO_DB = `races_${randomBytes(5).toString('hex')}`;
let stack: TestStack;
let mongo: MongoClient;
let db: Db;
let token: string;

beforeAll(async () => {
  stack = await startTestStack({ MONGO_DB });
  mongo = new MongoClient(stack.mongoUrl);
  db = mongo.db(MONGO_DB);
  ({ accessToken: token } = await signedIn(stack.url));
}, 120_000);

afterAll(async () => {
  await mongo?.close();
  await stack?.stop();
});

describe('concurrent writes', () => {
  it('100 concurrent updates of one customer with the same version: exactly one wins, the rest get 409', async () => {
    const customer = await rest(stack.url, 'POST', '/api/customers', { token, body: { name: 'Contested' } });
    expect(customer.status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        rest(stack.url, 'PATCH', `/api/customers/${customer.body.id}`, { token, body: { name: `Writer ${i}`, version: 1 } }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(99);
    const winner = answers.find((a) => a.status === 200)!.body;
    expect(winner.version).toBe(2);
    const stored = await db.collection('customers').findOne({ _id: new ObjectId(customer.body.id as string) });
    expect(stored).toMatchObject({ name: winner.name, version: 2 });
    // Through the API (and its cache) the winner is what every replica reads.
    for (let i = 0; i < 4; i++) {
      expect((await rest(stack.url, 'GET', `/api/customers/${customer.body.id}`, { token })).body).toMatchObject({
        name: winner.name,
        version: 2,
      });
    }
  });

  it('30 concurrent updates of one order with the same version: exactly one wins, the rest get 409', async () => {
    const customer = await rest(stack.url, 'POST', '/api/customers', { token, body: { name: 'Order race customer' } });
    const supplier = await rest(stack.url, 'POST', '/api/suppliers', { token, body: { name: 'Order race supplier' } });
    const order = await rest(stack.url, 'POST', '/api/orders', {
      token,
      body: { customerId: customer.body.id, supplierId: supplier.body.id, totalCents: 1 },
    });
    expect(order.status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        rest(stack.url, 'PATCH', `/api/orders/${order.body.id}`, { token, body: { totalCents: 1_000 + i, version: 1 } }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.filter((s) => s === 200),
      JSON.stringify(statuses),
    ).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(29);
    const winner = answers.find((a) => a.status === 200)!.body;
    const stored = await db.collection('orders').findOne({ _id: new ObjectId(order.body.id as string) });
    expect(stored).toMatchObject({ totalCents: winner.totalCents, version: 2 });
  });

  it('200 concurrent identical sign-ups make exactly one user', async () => {
    const fields = newUser();
    const answers = await Promise.all(Array.from({ length: 200 }, () => rest(stack.url, 'POST', '/api/auth/signup', { body: fields })));
    const statuses = answers.map((a) => a.status);
    const counts: Record<number, number> = {};
    for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
    const tally = JSON.stringify(counts);
    const other = answers.find((a) => a.status !== 201 && a.status !== 409);
    expect(
      statuses.filter((s) => s === 201),
      tally,
    ).toHaveLength(1);
    expect(
      statuses.filter((s) => s === 409),
      `${tally} ${JSON.stringify(other?.body)}`,
    ).toHaveLength(199);
    expect(await db.collection('users').countDocuments({ username: fields.username })).toBe(1);
    expect(await db.collection('users').countDocuments({ email: fields.email })).toBe(1);
  });

  it('orders created while their customer is deleted: never an order without its customer', async () => {
    const supplier = await rest(stack.url, 'POST', '/api/suppliers', { token, body: { name: 'Race supplier' } });
    let deletedCount = 0;
    let refusedCount = 0;
    for (let round = 0; round < 8; round++) {
      const customer = await rest(stack.url, 'POST', '/api/customers', { token, body: { name: `Doomed ${round}` } });
      const id = customer.body.id as string;
      const creates = Array.from({ length: 6 }, (_, i) =>
        rest(stack.url, 'POST', '/api/orders', { token, body: { customerId: id, supplierId: supplier.body.id, totalCents: 100 + i } }),
      );
      // The delete starts amid the creates.
      const deletion = new Promise((r) => setTimeout(r, round % 4)).then(() =>
        rest(stack.url, 'DELETE', `/api/customers/${id}`, { token }),
      );
      const [deleted, ...created] = await Promise.all([deletion, ...creates]);
      for (const answer of created) expect([201, 422]).toContain(answer.status);
      expect([200, 409]).toContain(deleted.status);
      const orders = await db.collection('orders').countDocuments({ customerId: new ObjectId(id), pendingSince: { $exists: false } });
      const exists = await db.collection('customers').countDocuments({ _id: new ObjectId(id) });
      if (deleted.status === 200) {
        deletedCount++;
        expect(exists).toBe(0);
        expect(orders, `round ${round}: orders left for a deleted customer`).toBe(0);
        expect(created.filter((a) => a.status === 201).map((a) => a.body.id)).toEqual(
          (
            await Promise.all(
              created.filter((a) => a.status === 201).map((a) => rest(stack.url, 'GET', `/api/orders/${a.body.id}`, { token })),
            )
          )
            .filter((a) => a.status === 200)
            .map((a) => a.body.id),
        );
      } else {
        refusedCount++;
        expect(exists).toBe(1);
        expect(orders).toBe(created.filter((a) => a.status === 201).length);
      }
    }
    expect(deletedCount + refusedCount).toBe(8);
    // Across the whole database: every visible order names customers that exist.
    const customerIds = await db.collection('orders').distinct('customerId', { pendingSince: { $exists: false } });
    const existing = await db.collection('customers').countDocuments({ _id: { $in: customerIds } });
    expect(existing).toBe(customerIds.length);
  });
});
