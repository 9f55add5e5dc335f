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
