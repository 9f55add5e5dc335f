import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PartyStore } from './store.js';

/*
 * The order of a reference check's reads (see PartyStore.batchGet): deletion marks first, the
 * records after. Read side by side, a check could see a record just before a delete removed it
 * and no mark just after that delete dropped it, and so pass a deleted record.
 */
let client: MongoClient;
let store: PartyStore;
const commands: { event: 'started' | 'succeeded'; collection: string; requestId: number }[] = [];

beforeAll(async () => {
  client = new MongoClient(inject('mongoUrl'), { monitorCommands: true, retryWrites: false });
  await client.connect();
  store = new PartyStore(client.db('test_party_store'), 'customers');
  const collectionOf = (command: Record<string, unknown> | undefined) => String(command?.find ?? '');
  const started = new Map<number, string>();
  client.on('commandStarted', (e) => {
    if (e.commandName !== 'find') return;
    started.set(e.requestId, collectionOf(e.command));
    commands.push({ event: 'started', collection: collectionOf(e.command), requestId: e.requestId });
  });
  client.on('commandSucceeded', (e) => {
    const collection = started.get(e.requestId);
    if (collection !== undefined) commands.push({ event: 'succeeded', collection, requestId: e.requestId });
  });
});
afterAll(async () => {
  await client?.db('test_party_store').dropDatabase();
  await client?.close();
});

describe('batchGet for a reference check', () => {
  it('reads the deletion marks before it reads the records, never side by side', async () => {
    const [a, b] = await Promise.all([store.create({ name: 'A' }, null), store.create({ name: 'B' }, null)]);
    const ids = [a, b].map((party) => new ObjectId(party.id));
    commands.length = 0;
    const found = await store.batchGet(ids, true);
    expect(found.map((party) => party.name).sort()).toEqual(['A', 'B']);

    const lastMarkDone = commands.findLastIndex((c) => c.event === 'succeeded' && c.collection === 'customers_deletion_marks');
    const firstRecordRead = commands.findIndex((c) => c.event === 'started' && c.collection === 'customers');
    expect(lastMarkDone).toBeGreaterThanOrEqual(0);
    expect(firstRecordRead).toBeGreaterThan(lastMarkDone);
  });

  it('does not read a record at all when a delete has marked it', async () => {
    const party = await store.create({ name: 'Going' }, null);
    const id = new ObjectId(party.id);
    expect(await store.markDeleting(id)).toMatchObject({ status: 'marked' });
    commands.length = 0;
    expect(await store.batchGet([id], true)).toEqual([]);
    expect(commands.filter((c) => c.collection === 'customers')).toEqual([]);
    expect(await store.batchGet([id], false)).toHaveLength(1);
  });
});
