import { connectMongo } from '@pdash/backend-shared/mongo';
import { type Collection, type MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * Our FerretDB build (scripts/install-infra.sh) must find a document by `_id` through the `_id`
 * index. Stock FerretDB 1.24.2 scans the table instead, so the last of 10,000 documents takes ~40×
 * as long to reach as the first, and every update scans it all; with the index all take about the
 * same. Ratios of operations measured side by side, not times.
 */
const DOCS = 10_000;
const ROUNDS = 25;

let client: MongoClient;
let collection: Collection<{ _id: ObjectId; n: number }>;
let first: ObjectId;
let last: ObjectId;

beforeAll(async () => {
  ({ client } = await connectMongo(inject('mongoUrl'), 'test_ferretdb_id_index'));
  collection = client.db('test_ferretdb_id_index').collection('docs');
  await collection.drop().catch(() => {});
  const docs = Array.from({ length: DOCS }, (_, n) => ({ _id: new ObjectId(), n }));
  for (let i = 0; i < DOCS; i += 1_000) await collection.insertMany(docs.slice(i, i + 1_000));
  first = docs[0]!._id;
  last = docs.at(-1)!._id;
});
afterAll(async () => {
  await collection?.drop().catch(() => {});
  await client?.close();
});

/** Median milliseconds of each operation, run in turns (after a few rounds of warm-up). */
async function medians(operations: (() => Promise<unknown>)[]) {
  const times = operations.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS + 3; round++) {
    for (const [i, operation] of operations.entries()) {
      const started = performance.now();
      await operation();
      if (round >= 3) times[i]!.push(performance.now() - started);
    }
  }
  return times.map((values) => values.sort((a, b) => a - b)[values.length >> 1]!);
}

describe('FerretDB lookups by _id', () => {
  it('find the last of 10,000 documents as fast as the first (the _id index is used)', async () => {
    const found = await collection.findOne({ _id: last });
    expect(found?.n).toBe(DOCS - 1);
    const [firstMs, lastMs] = await medians([() => collection.findOne({ _id: first }), () => collection.findOne({ _id: last })]);
    expect(lastMs! / firstMs!).toBeLessThan(4);
  });

  it('update and delete by _id through the index too', async () => {
    // Stock 1.24.2 scans the whole table for every update, wherever the document is: compared with
    // a read of the first document, not with another update.
    const [readMs, updateMs] = await medians([
      () => collection.findOne({ _id: first }),
      () => collection.updateOne({ _id: last }, { $inc: { n: 1 } }),
    ]);
    expect(updateMs! / readMs!).toBeLessThan(8);
    expect((await collection.findOne({ _id: last }))?.n).toBe(DOCS - 1 + ROUNDS + 3);
    const deleted = await collection.deleteOne({ _id: last });
    expect(deleted.deletedCount).toBe(1);
    expect(await collection.findOne({ _id: last })).toBeNull();
  });
});

/**
 * Lists that scale (issue 13): our build (scripts/ferretdb/pushdown.patch) runs an indexed filter,
 * its sort and its limit, and countDocuments, in SQLite. Stock 1.24.2 (and our pdash1) read and
 * sorted the whole collection in Go for every page: a page of 20 from 10,000 documents took
 * hundreds of times as long as a read by `_id`. And when a field's values make the SQL comparison
 * mean something else than MongoDB's (arrays, mixed types), the results must still be MongoDB's.
 */
describe('FerretDB lists through the indexes', () => {
  type Order = { _id: ObjectId; customerId: ObjectId | ObjectId[] | string; createdAt: Date | string; pendingSince?: Date };
  let orders: Collection<Order>;
  const customers = [new ObjectId(), new ObjectId(), new ObjectId(), new ObjectId()];
  const newestFirst = { createdAt: -1, _id: -1 } as const;
  const t0 = Date.UTC(2026, 0, 1);
  let all: Order[];

  beforeAll(async () => {
    orders = client.db('test_ferretdb_id_index').collection('orders');
    await orders.drop().catch(() => {});
    await orders.createIndex(newestFirst);
    await orders.createIndex({ customerId: 1, ...newestFirst });
    // every 100 share a createdAt: the `_id` decides
    all = Array.from({ length: DOCS }, (_, n) => ({
      _id: new ObjectId(),
      customerId: customers[n % customers.length]!,
      createdAt: new Date(t0 + Math.floor(n / 100) * 1000),
      ...(n % 97 === 0 ? { pendingSince: new Date(t0) } : {}),
    }));
    for (let i = 0; i < DOCS; i += 1_000) await orders.insertMany(all.slice(i, i + 1_000));
  });

  /** What MongoDB answers: `filter` over `docs`, newest first. */
  const expected = (docs: Order[], keep: (doc: Order) => boolean) =>
    docs
      .filter(keep)
      .sort((a, b) => +b.createdAt - +a.createdAt || b._id.toHexString().localeCompare(a._id.toHexString()))
      .map((doc) => doc._id.toHexString());
  const ids = (docs: Order[]) => docs.map((doc) => doc._id.toHexString());
  const customer = customers[1]!;
  const visibleOfCustomer = { customerId: customer, pendingSince: { $exists: false } };
  const isVisibleOfCustomer = (doc: Order) => doc.customerId === customer && doc.pendingSince === undefined;
  const olderThan = (doc: Order) => ({
    $or: [{ createdAt: { $lt: doc.createdAt } }, { createdAt: doc.createdAt, _id: { $lt: doc._id } }],
  });

  it('pages, cursors and counts are what MongoDB answers', async () => {
    const want = expected(all, isVisibleOfCustomer);
    const first = await orders.find(visibleOfCustomer).sort(newestFirst).limit(21).toArray();
    expect(ids(first)).toEqual(want.slice(0, 21));
    const cursorDoc = first[19]!;
    const second = await orders
      .find({ $and: [visibleOfCustomer, olderThan(cursorDoc)] })
      .sort(newestFirst)
      .limit(21)
      .toArray();
    expect(ids(second)).toEqual(want.slice(20, 41));
    expect(await orders.countDocuments(visibleOfCustomer)).toBe(want.length);
    expect(ids(await orders.find({}).sort(newestFirst).limit(5).toArray())).toEqual(expected(all, () => true).slice(0, 5));
  });

  it('a page of 20 and a count by customer take about as long as a read by _id, not a scan', async () => {
    const [readMs, pageMs, laterMs, countMs] = await medians([
      () => orders.findOne({ _id: all[0]!._id }),
      () => orders.find(visibleOfCustomer).sort(newestFirst).limit(21).toArray(),
      () =>
        orders
          .find({ $and: [{}, olderThan(all[DOCS / 2]!)] })
          .sort(newestFirst)
          .limit(21)
          .toArray(),
      () => orders.countDocuments({ customerId: customer }),
    ]);
    // stock and pdash1: 100× and more (every document read and sorted in Go); pdash2: ~2-6×
    expect(pageMs! / readMs!).toBeLessThan(20);
    expect(laterMs! / readMs!).toBeLessThan(20);
    expect(countMs! / readMs!).toBeLessThan(40);
  });

  it('values SQL would compare differently (arrays, strings, other dates) still give MongoDB answers', async () => {
    // an array holding the customer matches it; a string with the same hex does not; a date before
    // 2001 sorts last among dates; a string createdAt sorts after every date in descending order
    const odd: Order[] = [
      { _id: new ObjectId(), customerId: [new ObjectId(), customer], createdAt: new Date(t0 + 10_000_000) },
      { _id: new ObjectId(), customerId: customer.toHexString(), createdAt: new Date(t0 + 10_000_000) },
      { _id: new ObjectId(), customerId: customer, createdAt: new Date(Date.UTC(1990, 0, 1)) },
      { _id: new ObjectId(), customerId: customer, createdAt: 'yesterday' },
    ];
    await orders.insertMany(odd);
    const docs = [...all, ...odd];
    const matches = (doc: Order) =>
      doc.pendingSince === undefined &&
      (Array.isArray(doc.customerId)
        ? doc.customerId.some((id) => id.equals(customer))
        : doc.customerId instanceof ObjectId && doc.customerId.equals(customer));
    const first = await orders.find(visibleOfCustomer).sort(newestFirst).limit(3).toArray();
    expect(ids(first)[0]).toBe(odd[0]!._id.toHexString());
    expect(await orders.countDocuments(visibleOfCustomer)).toBe(docs.filter(matches).length);
    const dates = docs.filter((doc) => matches(doc) && doc.createdAt instanceof Date);
    // ascending, a string sorts before every date
    const oldest = await orders.find(visibleOfCustomer).sort({ createdAt: 1, _id: 1 }).limit(2).toArray();
    expect(ids(oldest)).toEqual([odd[3]!._id.toHexString(), odd[2]!._id.toHexString()]);
    dates.sort((a, b) => +a.createdAt - +b.createdAt || a._id.toHexString().localeCompare(b._id.toHexString()));
    const tail = await orders.find({ $and: [visibleOfCustomer, olderThan(dates[1]!)] }).toArray();
    expect(ids(tail)).toEqual([odd[2]!._id.toHexString()]);
    await orders.deleteMany({ _id: { $in: odd.map((doc) => doc._id) } });
  });
});
