import { randomBytes } from 'node:crypto';
import { type Db, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type AuditDoc, AuditTrail, auditEntry, entryId, PENDING_FIELD } from './audit.js';

/*
 * The history's outbox (audit.ts) against the run's FerretDB: each way a process can stop between
 * the steps of a change, and what recovery makes of it. Recovery waits until a write can no longer
 * land (the storage timing); here that wait is 0 so that it settles at once.
 */
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  client = new MongoClient(inject('mongoUrl'), { retryWrites: false });
  await client.connect();
  db = client.db(`test_audit_${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await db?.dropDatabase();
  await client?.close();
});

function setUp() {
  const records = db.collection<{ _id: ObjectId; name: string }>(`things_${randomBytes(3).toString('hex')}`);
  const trail = new AuditTrail(db, records, undefined, 0);
  const entryFor = (id: ObjectId, step: string, name: string): AuditDoc =>
    auditEntry({
      step,
      at: new Date(),
      actor: { id: new ObjectId().toHexString(), username: 'tester' },
      action: step === 'deleted' ? 'deleted' : 'created',
      entity: 'customer',
      entityId: id.toHexString(),
      changes: { name: step === 'deleted' ? { from: name } : { to: name } },
    });
  const logged = (entry: AuditDoc) => trail.log.countDocuments({ _id: entry._id });
  return { records, trail, entryFor, logged };
}

describe('the history outbox', () => {
  it('delivers a change whose process died after its write: the entry was in the record', async () => {
    const { records, trail, entryFor, logged } = setUp();
    const id = new ObjectId();
    const entry = entryFor(id, 'v1', 'Landed');
    await trail.announce(entry, id);
    await records.insertOne({ _id: id, name: 'Landed', ...trail.pendingDoc(entry) });
    // …and the process stops here, before delivering.
    expect(await logged(entry)).toBe(0);
    expect(await trail.recover()).toBe(1);
    expect(await trail.log.findOne({ _id: entry._id })).toMatchObject({ action: 'created', changes: { name: { to: 'Landed' } } });
    const record = await records.findOne({ _id: id });
    expect(Object.keys((record as unknown as Record<string, object>)[PENDING_FIELD] ?? {})).toEqual([]);
    expect(await trail.recover()).toBe(0);
  });

  it('writes nothing for a change whose write never landed', async () => {
    const { trail, entryFor, logged } = setUp();
    const id = new ObjectId();
    const entry = entryFor(id, 'v1', 'Never written');
    await trail.announce(entry, id);
    // The process stops before the write (or the write failed).
    expect(await trail.recover()).toBe(1);
    expect(await logged(entry)).toBe(0);
  });

  it('delivers a delete whose record is gone, and drops one whose record still stands', async () => {
    const { records, trail, entryFor, logged } = setUp();
    const gone = new ObjectId();
    const stays = new ObjectId();
    await records.insertMany([
      { _id: gone, name: 'Gone' },
      { _id: stays, name: 'Stays' },
    ]);
    const goneEntry = entryFor(gone, 'deleted', 'Gone');
    const staysEntry = entryFor(stays, 'deleted', 'Stays');
    await trail.announce(goneEntry, gone, 'delete');
    await trail.announce(staysEntry, stays, 'delete');
    await records.deleteOne({ _id: gone });
    expect(await trail.recover()).toBe(2);
    expect(await logged(goneEntry)).toBe(1);
    expect(await logged(staysEntry)).toBe(0);
  });

  it('delivers an entry once however often it is delivered or recovered', async () => {
    const { records, trail, entryFor, logged } = setUp();
    const id = new ObjectId();
    const entry = entryFor(id, 'v1', 'Once');
    await trail.announce(entry, id);
    await records.insertOne({ _id: id, name: 'Once', ...trail.pendingDoc(entry) });
    await trail.deliver(entry, id);
    await trail.deliver(entry, id);
    await trail.announce(entry, id);
    await trail.recover();
    expect(await logged(entry)).toBe(1);
  });

  it('flush delivers what a record holds before it is removed', async () => {
    const { records, trail, entryFor, logged } = setUp();
    const id = new ObjectId();
    const entry = entryFor(id, 'v1', 'Held');
    await records.insertOne({ _id: id, name: 'Held', ...trail.pendingDoc(entry) });
    await trail.flush((await records.findOne({ _id: id }))!);
    expect(await logged(entry)).toBe(1);
  });

  it('derives an id from the change, never all digits as a pending key', () => {
    const id = new ObjectId().toHexString();
    expect(entryId('order', id, 'v2')).toBe(entryId('order', id, 'v2'));
    expect(entryId('order', id, 'v2')).not.toBe(entryId('order', id, 'v3'));
    expect(entryId('order', id, 'v2')).toMatch(/^[0-9a-f]{24}$/);
  });
});
