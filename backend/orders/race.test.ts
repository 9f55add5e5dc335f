import { setTimeout as sleep } from 'node:timers/promises';
import { type Backend, startBackend } from '@pdash/testing/backend';
import { ObjectId } from 'mongodb';
import { Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrderDoc, OrdersStore, PENDING_TTL_MS } from './store.js';

/*
 * A customer's delete and an order's create (or update) racing must never leave an order that
 * refers to a customer that no longer exists: after every round one of the two won, or (on a
 * loaded machine) neither: the order refused and the delete gave up, busy.
 */

let backend: Backend;
let supplierId: string;

beforeAll(async () => {
  backend = await startBackend(['customers', 'suppliers', 'orders']);
  supplierId = (await backend.suppliers.create({ name: 'Race supplier' })).id;
});
afterAll(async () => backend?.stop());

const ROUNDS = 50;
const orders = () => backend.db.collection<OrderDoc>('orders');

/**
 * A deadline no call here reaches on a loaded machine: the rounds test the protocol's decisions,
 * not the client's 2 s default (a delete given up on by its caller while its mark stood made a
 * refused update and a standing customer, which is the documented failed-write case, not a race).
 */
const PATIENT = { deadline: 60_000 };

/** Runs `a` and `b` at once, one of them a random 0..12 ms later, so that either may win. */
async function race<A, B>(round: number, a: () => Promise<A>, b: () => Promise<B>) {
  const delay = () => sleep(Math.random() * 12);
  return Promise.allSettled([round % 2 ? delay().then(a) : a(), round % 2 ? b() : delay().then(b)]);
}

async function customerExists(id: string) {
  return (await backend.customers.batchGet({ ids: [id], forReference: false })).items.length === 1;
}

/** Every order document (pending ones too) that refers to the customer, or is checking a reference to it. */
async function ordersReferring(customerId: string) {
  const id = new ObjectId(customerId);
  return orders()
    .find({ $or: [{ customerId: id }, { 'pendingRefs.customerId': id }] })
    .toArray();
}

/** The order won: the delete was refused, as still referenced, or (busy, retryable: a loaded machine) after waiting for the order's pending reference. */
function expectDeleteRefused(deleted: PromiseSettledResult<unknown>) {
  expect(deleted.status).toBe('rejected');
  expect([Status.FAILED_PRECONDITION, Status.UNAVAILABLE]).toContain((deleted as PromiseRejectedResult).reason.code);
}

/**
 * The order lost: the delete went through, or neither won — the delete waited for the order's
 * pending reference, which its check then refused, and gave up first (busy); the customer stands.
 */
function deleteOutcome(round: number, deleted: PromiseSettledResult<unknown>, exists: boolean): 'customerDeleted' | 'neither' {
  if (deleted.status === 'fulfilled') {
    expect(exists, `round ${round}: the delete went through`).toBe(false);
    return 'customerDeleted';
  }
  expect(deleted.reason, `round ${round}`).toMatchObject({ code: Status.UNAVAILABLE });
  expect(exists, `round ${round}: a refused delete removes nothing`).toBe(true);
  return 'neither';
}

describe('delete customer X while an order for X is created', () => {
  it(`ends each of ${ROUNDS} concurrent rounds with one winner or, busy, neither: never an order without its customer`, async () => {
    const customers = await Promise.all(
      Array.from({ length: ROUNDS }, (_, i) => backend.customers.create({ name: `racer ${i}` }, PATIENT)),
    );
    const rounds = await Promise.all(
      customers.map(({ id }, round) =>
        race(
          round,
          () => backend.customers.delete({ id }, PATIENT),
          () => backend.orders.create({ customerId: id, supplierId, totalCents: 100 }, PATIENT),
        ),
      ),
    );

    const split = { orderKept: 0, customerDeleted: 0, neither: 0 };
    for (const [round, [deleted, created]] of rounds.entries()) {
      const customerId = customers[round]!.id;
      const exists = await customerExists(customerId);
      const referring = await ordersReferring(customerId);
      if (created.status === 'fulfilled') {
        split.orderKept++;
        expect(exists, `round ${round}: order created, customer must remain`).toBe(true);
        expect(referring.map((doc) => doc._id.toHexString())).toEqual([created.value.id]);
        expect(referring[0]).not.toHaveProperty('pendingSince');
        expectDeleteRefused(deleted);
      } else {
        expect(created.reason).toMatchObject({ code: Status.FAILED_PRECONDITION, details: `customerId: no customer ${customerId}` });
        expect(referring, `round ${round}: no order may refer to a deleted customer`).toEqual([]);
        split[deleteOutcome(round, deleted, exists)]++;
      }
    }
    console.info(`create/delete race over ${ROUNDS} rounds:`, split);
  });
});

describe('delete customer X while an order is moved to X', () => {
  it(`ends each of ${ROUNDS} concurrent rounds with one winner or, busy, neither, the order otherwise unchanged`, async () => {
    const home = (await backend.customers.create({ name: 'home' })).id;
    const [customers, placed] = await Promise.all([
      Promise.all(Array.from({ length: ROUNDS }, (_, i) => backend.customers.create({ name: `target ${i}` }, PATIENT))),
      Promise.all(Array.from({ length: ROUNDS }, () => backend.orders.create({ customerId: home, supplierId, totalCents: 5 }, PATIENT))),
    ]);
    const rounds = await Promise.all(
      customers.map(({ id }, round) =>
        race(
          round,
          () => backend.customers.delete({ id }, PATIENT),
          () => backend.orders.update({ id: placed[round]!.id, customerId: id }, PATIENT),
        ),
      ),
    );

    const split = { orderMoved: 0, customerDeleted: 0, neither: 0 };
    for (const [round, [deleted, updated]] of rounds.entries()) {
      const customerId = customers[round]!.id;
      const exists = await customerExists(customerId);
      const referring = await ordersReferring(customerId);
      const order = await backend.orders.get({ id: placed[round]!.id });
      if (updated.status === 'fulfilled') {
        split.orderMoved++;
        expect(exists, `round ${round}: order moved, customer must remain`).toBe(true);
        expect(order).toMatchObject({ customerId, version: 2 });
        expect(referring.map((doc) => doc._id.toHexString())).toEqual([order.id]);
        expectDeleteRefused(deleted);
      } else {
        expect(updated.reason).toMatchObject({ code: Status.FAILED_PRECONDITION, details: `customerId: no customer ${customerId}` });
        expect(order, `round ${round}: a refused update changes nothing`).toEqual(placed[round]);
        expect(referring, `round ${round}: no order may refer to a deleted customer`).toEqual([]);
        split[deleteOutcome(round, deleted, exists)]++;
      }
    }
    console.info(`update/delete race over ${ROUNDS} rounds:`, split);
  });
});

describe('pending orders', () => {
  const pendingOrder = (customerId: string, since: Date): OrderDoc => ({
    _id: new ObjectId(),
    customerId: new ObjectId(customerId),
    supplierId: new ObjectId(supplierId),
    totalCents: 1,
    createdAt: since,
    updatedAt: since,
    day: since.toISOString().slice(0, 10),
    version: 1,
    pendingSince: since,
  });
  const longAgo = () => new Date(Date.now() - PENDING_TTL_MS - 1_000);

  it('hold a delete off while they are fresh: it gives up with UNAVAILABLE and the customer stays usable', async () => {
    const { id } = await backend.customers.create({ name: 'busy' });
    const pending = pendingOrder(id, new Date());
    await orders().insertOne(pending);
    await expect(backend.customers.delete({ id })).rejects.toMatchObject({
      code: Status.UNAVAILABLE,
      details: expect.stringContaining('busy'),
    });
    await orders().deleteOne({ _id: pending._id });
    await expect(backend.orders.create({ customerId: id, supplierId, totalCents: 1 })).resolves.toMatchObject({ customerId: id });
  });

  it('left behind by a crash (older than the TTL) do not block a delete, and are removed', async () => {
    const { id } = await backend.customers.create({ name: 'crashed create' });
    const abandoned = pendingOrder(id, longAgo());
    await orders().insertOne(abandoned);
    expect(await backend.customers.delete({ id })).toEqual({ id });
    expect(await orders().countDocuments({ _id: abandoned._id })).toBe(0);
  });

  it('references left behind by a crashed update do not block a delete, and are cleared', async () => {
    const home = (await backend.customers.create({ name: 'home of a crashed update' })).id;
    const { id } = await backend.customers.create({ name: 'target of a crashed update' });
    const order = await backend.orders.create({ customerId: home, supplierId, totalCents: 1 });
    const pendingRefs = { token: new ObjectId(), since: longAgo(), customerId: new ObjectId(id) };
    await orders().updateOne({ _id: new ObjectId(order.id) }, { $set: { pendingRefs } });
    expect(await backend.orders.count({ customerId: id })).toEqual({ count: 0, pending: 0 });
    expect(await backend.customers.delete({ id })).toEqual({ id });
    expect(await orders().findOne({ _id: new ObjectId(order.id) })).not.toHaveProperty('pendingRefs');
    expect(await backend.orders.get({ id: order.id })).toEqual(order);
  });

  it('a create that outlives the TTL cannot confirm an order a delete already discarded', async () => {
    const { id } = await backend.customers.create({ name: 'slow create' });
    const store = new OrdersStore(backend.db);
    const doc = await store.insertPending(new ObjectId(), {
      customerId: new ObjectId(id),
      supplierId: new ObjectId(supplierId),
      totalCents: 1,
    });
    // The process stalls past the TTL: age its pending mark as time would.
    await orders().updateOne({ _id: doc._id }, { $set: { pendingSince: longAgo() } });
    expect(await store.countReferences('customerId', new ObjectId(id))).toEqual({ count: 0, pending: 0 });
    expect(await store.confirm(doc, null)).toBe(false);
    expect(await orders().countDocuments({ _id: doc._id })).toBe(0);
  });
});
