import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkStorageTiming, STORAGE_TIMING, VersionedRecords } from './versioned.js';

/* The storage protocol (docs/design.md, "Writes without transactions"), on the real FerretDB. */

type Doc = { _id: ObjectId; version: number; note: string };
let mongo: MongoClient;
let db: Db;
beforeAll(async () => {
  mongo = await MongoClient.connect(inject('mongoUrl'));
  db = mongo.db('test_versioned');
});
afterAll(async () => {
  await db?.dropDatabase();
  await mongo?.close();
});

/** A record and the read and write a store would pass to `update` for it. */
async function record(name: string) {
  const collection = db.collection<Doc>(name);
  const _id = new ObjectId();
  await collection.insertOne({ _id, version: 1, note: 'first' });
  const read = () => collection.findOne({ _id });
  const write = (note: string) => async (current: Doc) => {
    const next = { ...current, version: current.version + 1, note };
    await collection.updateOne({ _id }, { $set: { version: next.version, note } });
    return next;
  };
  return { id: _id.toHexString(), read, write, collection };
}

describe('the timing rule, checked when a store is made', () => {
  it('holds for the timing in use', () => {
    expect(checkStorageTiming()).toBe(STORAGE_TIMING);
    expect(() => new VersionedRecords(db, 'timed')).not.toThrow();
  });

  it('refuses a deletion mark that could go stale while a delete may still remove its record', () => {
    expect(() => checkStorageTiming({ ...STORAGE_TIMING, deletionMarkStaleMs: 18_000 })).toThrow(
      /a delete may still remove its record 18500 ms after marking it .* deletionMarkStaleMs 18000 must be longer/,
    );
    expect(() => new VersionedRecords(db, 'mistimed', { ...STORAGE_TIMING, deleteWithinMs: 20_000 })).toThrow(/deletionMarkStaleMs/);
  });

  it('refuses a claim that could go stale while its write may still land', () => {
    expect(() => checkStorageTiming({ ...STORAGE_TIMING, claimStaleMs: 13_000 })).toThrow(
      /a write may land 13500 ms after it is started .* claimStaleMs 13000 must be longer/,
    );
  });
});

describe('versioned updates', () => {
  const records = () => new VersionedRecords(db, 'notes');

  it('lets exactly one of many updates of one version win; the rest conflict and write nothing', async () => {
    const { id, read, write } = await record('notes');
    const store = records();
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.update(id, { expectedVersion: 1, read, write: write(`writer ${i}`) })),
    );
    const won = outcomes.filter((o) => o.status === 'updated');
    expect(won).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'conflict')).toHaveLength(11);
    expect(await read()).toMatchObject({ version: 2, note: (won[0] as { record: Doc }).record.note });
  });

  it('without a version, retries a lost race: every update lands, one version each', async () => {
    const { id, read, write } = await record('notes');
    const store = records();
    const outcomes = await Promise.all(Array.from({ length: 4 }, (_, i) => store.update(id, { read, write: write(`w${i}`) })));
    expect(outcomes.map((o) => o.status)).toEqual(['updated', 'updated', 'updated', 'updated']);
    const versions = outcomes.map((o) => (o as { record: Doc }).record.version).sort();
    expect(versions).toEqual([2, 3, 4, 5]);
  });

  it('answers missing and conflict without writing', async () => {
    const { id, read, write } = await record('notes');
    const store = records();
    expect(await store.update(id, { expectedVersion: 7, read, write: write('x') })).toEqual({ status: 'conflict' });
    expect(await store.update(new ObjectId().toHexString(), { read: async () => null, write: write('x') })).toEqual({ status: 'missing' });
    expect(await read()).toMatchObject({ version: 1, note: 'first' });
  });

  it('frees the claim when the write fails, so the next update goes through at once', async () => {
    const { id, read, write } = await record('notes');
    const store = records();
    const failing = async () => {
      throw new Error('database went away');
    };
    await expect(store.update(id, { expectedVersion: 1, read, write: failing })).rejects.toThrow('database went away');
    expect(await store.update(id, { expectedVersion: 1, read, write: write('after') })).toMatchObject({ status: 'updated' });
  });

  it('says busy, writing nothing, when the claim of a dead writer blocks the next version', async () => {
    const { id, read, write } = await record('notes');
    await db.collection('notes_claims').insertOne({ _id: `${id}:v2` as unknown as ObjectId, at: new Date() });
    expect(await records().update(id, { read, write: write('blocked') })).toEqual({ status: 'busy' });
    expect(await read()).toMatchObject({ version: 1 });
  });

  it('gives up rather than write late: a writer slower than its claim allows writes nothing', async () => {
    const { id, read, write, collection } = await record('slow_notes');
    // A window of 100 ms between taking the claim and starting the write.
    const timing = {
      ...STORAGE_TIMING,
      claimStaleMs: 1_300,
      serverSelectionTimeoutMs: 100,
      waitQueueTimeoutMs: 100,
      socketTimeoutMs: 1_000,
    };
    const store = new VersionedRecords(db, 'slow_notes', timing);
    let reads = 0;
    const slowReread = async () => {
      if (++reads === 2) await sleep(250); // the re-read under the claim stalls
      return read();
    };
    expect(await store.update(id, { read: slowReread, write: write('late') })).toEqual({ status: 'busy' });
    expect(await collection.findOne({ _id: new ObjectId(id) })).toMatchObject({ version: 1, note: 'first' });
  });
});

describe('deletion marks', () => {
  it('name what a delete is working on until it removes the record or gives up', async () => {
    const store = new VersionedRecords(db, 'marked');
    const [a, b] = [new ObjectId().toHexString(), new ObjectId().toHexString()];
    const mark = await store.markDeleting(a);
    expect(mark).toMatchObject({ status: 'marked', at: expect.any(Number) });
    expect(await store.markDeleting(a)).toEqual({ status: 'busy' });
    expect(await store.beingDeleted([a, b])).toEqual(new Set([a]));
    expect(store.mayStillRemove((mark as { at: number }).at)).toBe(true);
    await store.unmarkDeleting(a, (mark as { at: number }).at);
    expect(await store.beingDeleted([a, b])).toEqual(new Set());
    const markB = await store.markDeleting(b);
    await store.removed(b, (markB as { at: number }).at);
    expect(await store.beingDeleted([a, b])).toEqual(new Set());
  });

  it('a delete that gave up after its mark went stale leaves the mark another delete took over', async () => {
    const store = new VersionedRecords(db, 'stale_marks', { ...STORAGE_TIMING, deletionMarkStaleMs: 20_000 });
    const id = new ObjectId().toHexString();
    const first = (await store.markDeleting(id)) as { at: number };
    // The first delete's mark goes stale; a second delete takes it over.
    await db
      .collection('stale_marks_deletion_marks')
      .updateOne({ _id: `${id}:delete` as unknown as ObjectId }, { $set: { at: new Date(first.at - 21_000) } });
    const second = await store.markDeleting(id);
    expect(second).toMatchObject({ status: 'marked' });
    // The first one, late, gives up: the second's mark stands.
    await store.unmarkDeleting(id, first.at - 21_000);
    await store.unmarkDeleting(id, first.at);
    expect(await store.beingDeleted([id])).toEqual(new Set([id]));
  });

  it("a writer's release never frees a claim another writer took over once it went stale", async () => {
    const { id, read, write } = await record('taken_over');
    const store = new VersionedRecords(db, 'taken_over');
    let reads = 0;
    // The first writer stalls on its re-read long enough for its claim to be taken over.
    const stalling = async () => {
      if (++reads === 2) {
        await db.collection('taken_over_claims').updateOne({ _id: `${id}:v2` as unknown as ObjectId }, { $set: { at: new Date(0) } });
        // Another writer takes the stale claim over (its own time) and holds it.
        await db.collection('taken_over_claims').deleteOne({ _id: `${id}:v2` as unknown as ObjectId });
        await db.collection('taken_over_claims').insertOne({ _id: `${id}:v2` as unknown as ObjectId, at: new Date() });
        throw new Error('database went away');
      }
      return read();
    };
    await expect(store.update(id, { read: stalling, write: write('late') })).rejects.toThrow('database went away');
    expect(await db.collection('taken_over_claims').findOne({ _id: `${id}:v2` as unknown as ObjectId })).not.toBeNull();
  });
});
