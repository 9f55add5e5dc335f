import { createServiceClient } from '@pdash/backend-shared/grpc-client';
import { createLogger } from '@pdash/backend-shared/logger';
import { redisErrors } from '@pdash/backend-shared/metrics';
import { createRedis } from '@pdash/backend-shared/redis';
import { type OrderEvent, OrderEventType, OrdersServiceDefinition, type WatchOrdersRequest } from '@pdash/proto/orders/v1/orders';
import { freePort } from '@pdash/scripts/infra';
import { type Backend, startBackend } from '@pdash/testing/backend';
import { Redis } from 'ioredis';
import { ObjectId } from 'mongodb';
import { Status } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appendEvent, OrderEventLog, QUEUE_LIMIT } from './events.js';
import { startOrdersService } from './main.js';

let backend: Backend;
let closedPort: number;
let customerId: string;
let supplierId: string;

beforeAll(async () => {
  backend = await startBackend(['customers', 'suppliers', 'orders']);
  closedPort = await freePort();
  customerId = (await backend.customers.create({ name: 'Watched' })).id;
  supplierId = (await backend.suppliers.create({ name: 'Watched supplier' })).id;
});
afterAll(async () => backend?.stop());

type OrdersClient = Backend['orders'];
const { ORDER_EVENT_TYPE_CREATED: CREATED, ORDER_EVENT_TYPE_UPDATED: UPDATED, ORDER_EVENT_TYPE_DELETED: DELETED } = OrderEventType;

/**
 * A watch that collects its events. `live` resolves with the id it starts after once the server
 * registered it (and rejects if the watch ends first); `ended` resolves with the error that ended it.
 */
function watch(client: OrdersClient, request: WatchOrdersRequest = {}) {
  const controller = new AbortController();
  const events: OrderEvent[] = [];
  let started: (after: string) => void = () => {};
  const header = new Promise<string>((resolve) => {
    started = resolve;
  });
  const ended = (async () => {
    try {
      const stream = client.watch(request, {
        signal: controller.signal,
        onHeader: (metadata) => started(metadata.get('x-watch-after') ?? ''),
      });
      for await (const event of stream) events.push(event);
    } catch (err) {
      return err;
    }
  })();
  const live = Promise.race([
    header,
    ended.then((err) => {
      throw new Error(`the watch ended before it was live: ${err}`);
    }),
  ]);
  live.catch(() => {}); // observed by the tests that await it
  return {
    events,
    live,
    ended,
    /** The first `n` events, once they have arrived. */
    async first(n: number) {
      await vi.waitFor(
        () => {
          if (events.length < n) throw new Error(`${events.length} of ${n} events arrived`);
        },
        { timeout: 10_000, interval: 5 },
      );
      return events.slice(0, n);
    },
    stop() {
      controller.abort();
      return ended;
    },
  };
}

const createOrder = (client: OrdersClient = backend.orders, totalCents = 100) => client.create({ customerId, supplierId, totalCents });
const compareIds = (a: string, b: string) => {
  const [aMs, aSeq] = a.split('-').map(Number) as [number, number];
  const [bMs, bSeq] = b.split('-').map(Number) as [number, number];
  return aMs - bMs || aSeq - bSeq;
};
const expectIncreasing = (ids: string[]) => {
  for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1]!, ids[i]!), `${ids[i - 1]} before ${ids[i]}`).toBeLessThan(0);
};

describe('Watch', () => {
  it('streams every create, update and delete from now on, in order, with the order count', async () => {
    await createOrder(); // an earlier event, which a watch from now must not replay
    const watcher = watch(backend.orders);
    const after = await watcher.live;
    const before = (await backend.orders.list({ limit: 1 })).total;

    const a = await createOrder();
    const a2 = await backend.orders.update({ id: a.id, totalCents: 250 });
    await backend.orders.delete({ id: a.id });
    // Failed writes publish nothing.
    await expect(backend.orders.create({ customerId: new ObjectId().toHexString(), supplierId, totalCents: 1 })).rejects.toThrow();
    await expect(backend.orders.update({ id: a.id, totalCents: 1 })).rejects.toThrow();
    const b = await createOrder();

    const events = await watcher.first(4);
    expect(events.map((e) => [e.type, e.order, e.orderCount])).toEqual([
      [CREATED, a, before + 1],
      [UPDATED, a2, before + 1],
      [DELETED, a2, before],
      [CREATED, b, before + 1],
    ]);
    expectIncreasing([after, ...events.map((e) => e.eventId)]);
    await createOrder();
    await watcher.first(5);
    expect(watcher.events[4]?.order?.id).not.toBe(a.id);
    await watcher.stop();
  });

  it('resumes after a given event id without missing or repeating any', async () => {
    const first = watch(backend.orders);
    await first.live;
    const placed = [await createOrder(), await createOrder(), await createOrder()];
    const seen = await first.first(3);
    await first.stop();
    // Written while no one watches.
    placed.push(await createOrder(), await createOrder());

    const resumed = watch(backend.orders, { afterEventId: seen[0]!.eventId });
    expect(await resumed.live).toBe(seen[0]!.eventId);
    const caughtUp = await resumed.first(4);
    expect(caughtUp.map((e) => e.order?.id)).toEqual(placed.slice(1).map((o) => o.id));
    expect(caughtUp.slice(0, 2).map((e) => e.eventId)).toEqual(seen.slice(1).map((e) => e.eventId));
    expectIncreasing(caughtUp.map((e) => e.eventId));
    // And it goes on live.
    const next = await createOrder();
    expect((await resumed.first(5))[4]?.order?.id).toBe(next.id);
    expect(resumed.events).toHaveLength(5);
    await resumed.stop();
  });

  it('starts at the oldest event kept when asked to resume from before it', async () => {
    const redis = new Redis(backend.redis.url);
    const [[oldest]] = (await redis.xrange('orders:events', '-', '+', 'COUNT', 1)) as [[string, string[]]];
    redis.disconnect();
    const watcher = watch(backend.orders, { afterEventId: '0-1' });
    expect((await watcher.first(1))[0]?.eventId).toBe(oldest);
    await watcher.stop();
  });

  it('refuses an id that is not an event id', async () => {
    const watcher = watch(backend.orders, { afterEventId: 'yesterday' });
    expect(await watcher.ended).toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining('afterEventId') });
  });

  it('gets the events of every orders replica, in one order, through any of them', async () => {
    const port = await freePort();
    const replica = await startOrdersService({ ...backend.env, GRPC_PORT: String(port) });
    const replicaChannel = createServiceClient(OrdersServiceDefinition, `127.0.0.1:${port}`);
    const other = replicaChannel.client;
    try {
      const viaFirst = watch(backend.orders);
      const viaReplica = watch(other);
      await Promise.all([viaFirst.live, viaReplica.live]);

      const placed = [];
      for (let i = 0; i < 10; i++) placed.push(await createOrder(i % 2 ? other : backend.orders));
      placed.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => createOrder(i % 2 ? other : backend.orders)))));
      await other.delete({ id: placed[0]!.id });

      const [first, second] = await Promise.all([viaFirst.first(31), viaReplica.first(31)]);
      expect(second).toEqual(first);
      expectIncreasing(first.map((e) => e.eventId));
      expect(first.slice(0, 10).map((e) => e.order?.id)).toEqual(placed.slice(0, 10).map((o) => o.id));
      expect(new Set(first.slice(10, 30).map((e) => e.order?.id))).toEqual(new Set(placed.slice(10).map((o) => o.id)));
      expect(first[30]).toMatchObject({ type: DELETED, order: { id: placed[0]!.id } });
      await viaFirst.stop();

      // A replica that stops ends its watches with UNAVAILABLE, so clients move to another one.
      await replica.shutdown();
      expect(await viaReplica.ended).toMatchObject({ code: Status.UNAVAILABLE });
    } finally {
      replicaChannel.close();
      await replica.shutdown();
    }
  });

  it(`ends a watcher that falls ${QUEUE_LIMIT} events behind with RESOURCE_EXHAUSTED, without holding up writers or other watchers`, async () => {
    const order = await createOrder();
    const fast = watch(backend.orders);
    await fast.live;
    // The slow client takes one event, then stops reading: flow control stalls its stream.
    const slowController = new AbortController();
    const slow = backend.orders.watch({}, { signal: slowController.signal })[Symbol.asyncIterator]();
    const firstSlow = slow.next();

    // Far more events than the stalled stream and its queue can hold, appended as the service does,
    // at a pace the healthy watcher keeps up with.
    const backlog = 3 * QUEUE_LIMIT;
    const redis = new Redis(backend.redis.url);
    for (let appended = 0; appended < backlog; appended += 200) {
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => appendEvent(redis, 'orders:events', UPDATED, { ...order, totalCents: appended + i }, 1)),
      );
      await fast.first(appended + 200);
    }
    redis.disconnect();
    // Writers go on as usual meanwhile, and the other watcher gets everything.
    const placed = await Promise.all(Array.from({ length: 10 }, () => createOrder()));
    const all = await fast.first(backlog + placed.length);
    expect(all.slice(backlog).map((e) => e.order?.id)).toEqual(expect.arrayContaining(placed.map((o) => o.id)));
    await fast.stop();

    // The slow client reads again: what was already in flight, then the end.
    const received = [((await firstSlow).value as OrderEvent).eventId];
    let failure: unknown;
    try {
      for (let step = await slow.next(); !step.done; step = await slow.next()) received.push(step.value.eventId);
    } catch (err) {
      failure = err;
    }
    expect(failure).toMatchObject({ code: Status.RESOURCE_EXHAUSTED });
    expect(received.length).toBeLessThan(all.length);
    expect(received).toEqual(all.slice(0, received.length).map((e) => e.eventId));

    // Resuming from its last event, it catches up from the stream with nothing missing.
    const resumed = watch(backend.orders, { afterEventId: received.at(-1) });
    const rest = await resumed.first(all.length - received.length);
    expect([...received, ...rest.map((e) => e.eventId)]).toEqual(all.map((e) => e.eventId));
    await resumed.stop();
    slowController.abort();
    console.info(`a stalled watcher got ${received.length} of ${all.length} events before it was cut off`);
  });
});

describe('with Redis down', () => {
  it('writes still succeed (the lost event is counted), Watch fails with UNAVAILABLE, and all recovers with Redis', async () => {
    const lostEvents = async () => (await redisErrors.get()).values.find((v) => v.labels.operation === 'order_event')?.value ?? 0;
    const watcher = watch(backend.orders);
    await watcher.live;
    const lostBefore = await lostEvents();

    await backend.redis.stop();
    try {
      expect(await watcher.ended).toMatchObject({ code: Status.UNAVAILABLE });
      const order = await createOrder();
      expect(await backend.orders.get({ id: order.id })).toEqual(order);
      expect(await lostEvents()).toBe(lostBefore + 1);
      expect(await watch(backend.orders).ended).toMatchObject({ code: Status.UNAVAILABLE });
    } finally {
      await backend.redis.start();
    }

    const back = await vi.waitFor(
      async () => {
        const attempt = watch(backend.orders);
        await attempt.live;
        return attempt;
      },
      { timeout: 10_000, interval: 100 },
    );
    const order = await createOrder();
    expect((await back.first(1))[0]).toMatchObject({ type: CREATED, order });
    await back.stop();
  });
});

describe('an event that cannot be published', () => {
  it('is logged with the request id and trace id of the call that made the change', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('orders', 'warn', { write: (line: string) => void lines.push(JSON.parse(line)) });
    const deadRedis = () => createRedis(`redis://127.0.0.1:${closedPort}/`, log);
    const stopping = new AbortController();
    const events = new OrderEventLog({
      redis: deadRedis(),
      reader: deadRedis(),
      key: 'test:orders:events',
      log,
      stopping: stopping.signal,
    });
    try {
      const order = { id: new ObjectId().toHexString(), customerId, supplierId, totalCents: 1, version: 1 } as never;
      await events.publish(CREATED, order, Promise.resolve(1), { requestId: 'req-lost-1', traceId: 'a'.repeat(32) });
      expect(lines).toContainEqual(
        expect.objectContaining({ msg: 'order event not published', requestId: 'req-lost-1', traceId: 'a'.repeat(32) }),
      );
    } finally {
      stopping.abort();
      await events.close();
    }
  });
});
