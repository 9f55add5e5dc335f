import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Claims } from './claims.js';

let mongo: MongoClient;
let db: Db;
beforeAll(async () => {
  mongo = await MongoClient.connect(inject('mongoUrl'));
  db = mongo.db('test_claims');
});
afterAll(async () => mongo?.close());

describe('Claims', () => {
  it('gives a key to one taker at a time; a stale one may be taken over', async () => {
    const claims = new Claims(db, 'exclusive_claims', 300);
    const takers = await Promise.all(Array.from({ length: 10 }, () => claims.take('k')));
    expect(takers.filter(Boolean)).toHaveLength(1);
    expect(await claims.held(['k', 'other'])).toEqual(new Set(['k']));
    await sleep(350);
    expect(await claims.held(['k'])).toEqual(new Set());
    expect(await claims.take('k')).toBe(true);
  });

  it('sweeps stale claims left behind, keeping fresh ones', async () => {
    const claims = new Claims(db, 'swept_claims', 300);
    const collection = db.collection('swept_claims');
    expect(await claims.take('left-behind')).toBe(true);
    await sleep(350);
    // The next take sweeps (in the background) what went stale meanwhile.
    expect(await claims.take('fresh')).toBe(true);
    await expect.poll(async () => (await collection.find().toArray()).map((doc) => doc._id), { timeout: 2_000 }).toEqual(['fresh']);
  });
});
