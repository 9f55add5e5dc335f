import { type Backend, startBackend } from '@pdash/testing/backend';
import { ObjectId } from 'mongodb';
import { Status } from 'nice-grpc';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OrderDoc } from './store.js';

/*
 * A known data set over a 7-day window (day 0 is six days ago, day 6 today, UTC): supplier i has
 * one order of (i + 1) * 1000 cents on day i % 7; a supplier that does not exist has the largest
 * order. Around the window: an order at its first instant (in), one a millisecond before (out,
 * but inside 30 days), and a pending one (never counted).
 */

const DAY_MS = 86_400_000;
const now = new Date();
const windowStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 6);
const dayOf = (k: number) => new Date(windowStart + k * DAY_MS).toISOString().slice(0, 10);
const noonOf = (k: number) => new Date(windowStart + k * DAY_MS + 12 * 3_600_000);

let backend: Backend;
let suppliers: string[];
const ghostSupplier = new ObjectId();

beforeAll(async () => {
  backend = await startBackend(['customers', 'suppliers', 'orders']);
  const customerId = (await backend.customers.create({ name: 'Buyer' })).id;
  suppliers = [];
  for (let i = 0; i < 12; i++) suppliers.push((await backend.suppliers.create({ name: `S${String(i).padStart(2, '0')}` })).id);

  const order = (supplier: ObjectId, createdAt: Date, totalCents: number, extra: Partial<OrderDoc> = {}): OrderDoc => ({
    _id: new ObjectId(),
    customerId: new ObjectId(customerId),
    supplierId: supplier,
    totalCents,
    createdAt,
    updatedAt: createdAt,
    day: createdAt.toISOString().slice(0, 10),
    version: 1,
    ...extra,
  });
  const supplier = (i: number) => new ObjectId(suppliers[i]);
  await backend.db
    .collection<OrderDoc>('orders')
    .insertMany([
      ...suppliers.map((_, i) => order(supplier(i), noonOf(i % 7), (i + 1) * 1000)),
      order(ghostSupplier, noonOf(3), 50_000),
      order(supplier(0), new Date(windowStart), 7),
      order(supplier(11), new Date(windowStart - 1), 1_000_000),
      order(supplier(5), noonOf(2), 2_000_000, { pendingSince: noonOf(2) }),
    ]);
  // And one through the service, today.
  await backend.orders.create({ customerId, supplierId: suppliers[1]!, totalCents: 5 });
});
afterAll(async () => backend?.stop());

it('totals the last 7 days per day (zero-filled, oldest first) and per supplier (top 10, named)', async () => {
  const stats = await backend.orders.getStats({ days: 7 });
  expect(stats.byDay).toEqual([
    { day: dayOf(0), count: 3, revenueCents: 1_000 + 8_000 + 7 },
    { day: dayOf(1), count: 2, revenueCents: 2_000 + 9_000 },
    { day: dayOf(2), count: 2, revenueCents: 3_000 + 10_000 },
    { day: dayOf(3), count: 3, revenueCents: 4_000 + 11_000 + 50_000 },
    { day: dayOf(4), count: 2, revenueCents: 5_000 + 12_000 },
    { day: dayOf(5), count: 1, revenueCents: 6_000 },
    { day: dayOf(6), count: 2, revenueCents: 7_000 + 5 },
  ]);
  expect(stats.count).toBe(15);
  expect(stats.revenueCents).toBe(128_012);
  expect(stats.bySupplier).toEqual([
    { supplierId: ghostSupplier.toHexString(), name: '', count: 1, revenueCents: 50_000 },
    ...[11, 10, 9, 8, 7, 6, 5, 4, 3].map((i) => ({
      supplierId: suppliers[i],
      name: `S${String(i).padStart(2, '0')}`,
      count: 1,
      revenueCents: (i + 1) * 1000,
    })),
  ]);
});

it('defaults to 30 days, which reach the order before the 7-day window', async () => {
  const stats = await backend.orders.getStats({ days: 0 });
  expect(stats.byDay).toHaveLength(30);
  expect(stats.byDay.at(-1)?.day).toBe(dayOf(6));
  expect(stats.byDay.at(0)?.day).toBe(dayOf(-23));
  expect(stats.byDay.at(22)).toEqual({ day: dayOf(-1), count: 1, revenueCents: 1_000_000 });
  expect(stats.byDay.slice(0, 22).every((d) => d.count === 0 && d.revenueCents === 0)).toBe(true);
  expect(stats.count).toBe(16);
  expect(stats.revenueCents).toBe(1_128_012);
  expect(stats.bySupplier[0]).toEqual({ supplierId: suppliers[11], name: 'S11', count: 2, revenueCents: 1_012_000 });
});

it('covers just today with days = 1', async () => {
  const stats = await backend.orders.getStats({ days: 1 });
  expect(stats).toMatchObject({ count: 2, revenueCents: 7_005, byDay: [{ day: dayOf(6), count: 2, revenueCents: 7_005 }] });
  expect(stats.bySupplier.map((s) => [s.name, s.revenueCents])).toEqual([
    ['S06', 7_000],
    ['S01', 5],
  ]);
});

it('refuses days outside 1..366', async () => {
  for (const days of [-1, 367]) {
    await expect(backend.orders.getStats({ days })).rejects.toMatchObject({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringContaining('days: must be 1..366'),
    });
  }
  expect((await backend.orders.getStats({ days: 366 })).byDay).toHaveLength(366);
});
