import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLogger } from './logger.js';
import { connectMongo, findByIds, watchMonitor } from './mongo.js';

let client: MongoClient;
beforeAll(async () => {
  ({ client } = await connectMongo(inject('mongoUrl'), 'test_mongo_watchdog'));
});
afterAll(async () => client?.close());

/** The driver's own monitors (internal API): stopping them is the stall the watchdog is for. */
function stopMonitors(mongo: MongoClient) {
  const servers = (mongo as unknown as { topology: { s: { servers: Map<string, { monitor?: { close(): void } }> } } }).topology.s.servers;
  for (const server of servers.values()) server.monitor?.close();
}

describe('watchMonitor', () => {
  it('reconnects a client whose server monitor went quiet, and leaves a healthy one alone', async () => {
    const lines: string[] = [];
    const log = createLogger(
      'test',
      'warn',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const collection = client.db('test_mongo_watchdog').collection('docs');
    await collection.insertOne({ n: 1 });
    const stop = watchMonitor(client, log, 1_500);
    try {
      // Healthy: heartbeats every second, so nothing happens.
      await sleep(2_500);
      expect(lines).toEqual([]);

      let beats = 0;
      const count = () => beats++;
      client.on('serverHeartbeatSucceeded', count);
      stopMonitors(client);
      await sleep(2_000);
      const beatsWhileStalled = beats;
      await expect.poll(() => lines.some((line) => line.includes('mongodb monitor stalled; reconnecting')), { timeout: 5_000 }).toBe(true);
      // A new monitor beats again, and the same collection object works.
      await expect.poll(() => beats, { timeout: 5_000 }).toBeGreaterThan(beatsWhileStalled);
      expect(await collection.countDocuments({ n: 1 })).toBe(1);
      client.off('serverHeartbeatSucceeded', count);
    } finally {
      await stop();
    }
  });
});

describe('findByIds', () => {
  it('finds the documents with those ids, a few one by one and many at once, leaving missing ones out', async () => {
    const collection = client.db('test_mongo_watchdog').collection<{ _id: string; n: number }>('by_ids');
    await collection.insertMany(Array.from({ length: 30 }, (_, n) => ({ _id: `doc-${n}`, n })));
    const few = await findByIds(collection, ['doc-3', 'nope', 'doc-7']);
    expect(few.map((doc) => doc.n).sort((a, b) => a - b)).toEqual([3, 7]);
    const manyIds = [...Array.from({ length: 25 }, (_, n) => `doc-${n}`), 'nope-1', 'nope-2'];
    const many = await findByIds(collection, manyIds);
    expect(many.map((doc) => doc.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, n) => n));
    expect(await findByIds(collection, [])).toEqual([]);
  });
});
