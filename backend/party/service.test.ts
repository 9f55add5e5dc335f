import { setTimeout as sleep } from 'node:timers/promises';
import { RecordCache } from '@pdash/backend-shared/cache';
import { createLogger } from '@pdash/backend-shared/logger';
import { STORAGE_TIMING } from '@pdash/backend-shared/versioned';
import type { Party } from '@pdash/proto/common/v1/party';
import { type Backend, startBackend } from '@pdash/testing/backend';
import { grpcError, Status } from '@pdash/testing/grpc';
import { Redis } from 'ioredis';
import { ObjectId } from 'mongodb';
import type { CallContext } from 'nice-grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPartyService } from './service.js';
import { PartyStore } from './store.js';

let backend: Backend;
let redis: Redis;

beforeAll(async () => {
  backend = await startBackend(['customers', 'suppliers', 'orders']);
  redis = new Redis(backend.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
});

afterAll(async () => {
  redis?.disconnect();
  await backend?.stop();
});

const unknownId = () => new ObjectId().toHexString();

describe('create', () => {
  it('stores a trimmed record at version 1', async () => {
    const c = await backend.customers.create({ name: '  Ada Lovelace ', email: 'ada@example.com', phone: '+44 20 7946 0000' });
    expect(c).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000', version: 1 });
    expect(c.id).toMatch(/^[0-9a-f]{24}$/);
    expect(new Date(c.createdAt!).toISOString()).toBe(c.createdAt);
    expect(c.updatedAt).toBe(c.createdAt);
    const doc = await backend.db.collection('customers').findOne({ _id: new ObjectId(c.id) });
    expect(doc).toMatchObject({ name: 'Ada Lovelace', version: 1 });
  });

  it('keeps an address, changes it and removes it with an empty string', async () => {
    const c = await backend.customers.create({ name: 'Addressed', address: ' 1 Main St, Springfield ' });
    expect(c.address).toBe('1 Main St, Springfield');
    expect(await backend.customers.get({ id: c.id })).toMatchObject({ address: '1 Main St, Springfield' });
    const moved = await backend.customers.update({ id: c.id, address: '2 Elm St' });
    expect(moved).toMatchObject({ address: '2 Elm St', version: 2 });
    const gone = await backend.customers.update({ id: c.id, address: '' });
    expect(gone.address).toBeUndefined();
    const doc = await backend.db.collection('customers').findOne({ _id: new ObjectId(c.id) });
    expect(doc).not.toHaveProperty('address');
  });

  it('treats empty optional fields as absent', async () => {
    const c = await backend.customers.create({ name: 'No Contact', email: '', phone: '' });
    expect(c.email).toBeUndefined();
    expect(c.phone).toBeUndefined();
  });

  it.each([
    [{ name: '' }, /^name: /],
    [{ name: '   ' }, /^name: /],
    [{ name: 'x'.repeat(201) }, /^name: must be at most 200/],
    [{ name: 'bad\u0000name' }, /^name: must not contain control/],
    [{ name: 'A', email: 'not-an-email' }, /^email: /],
    [{ name: 'A', phone: '1'.repeat(41) }, /^phone: must be at most 40/],
    [{ name: 'A', phone: 'call me' }, /^phone: /],
    [{ name: 'A', address: 'x'.repeat(201) }, /^address: must be at most 200/],
    [{ name: 'A', address: 'evil\u202egnp' }, /^address: must not contain invisible/],
  ])('refuses %j naming the field', async (request, message) => {
    const before = await backend.db.collection('customers').countDocuments();
    await grpcError(backend.customers.create(request), Status.INVALID_ARGUMENT, message);
    expect(await backend.db.collection('customers').countDocuments()).toBe(before);
  });
});

describe('get and the cache', () => {
  it('refuses a malformed id before any query and answers NOT_FOUND for an unknown one', async () => {
    await grpcError(backend.customers.get({ id: 'nope' }), Status.INVALID_ARGUMENT, /^id: /);
    await grpcError(backend.customers.get({ id: '{"$gt":""}' }), Status.INVALID_ARGUMENT, /^id: /);
    const id = unknownId();
    await grpcError(backend.customers.get({ id }), Status.NOT_FOUND, `no customer ${id}`);
  });

  it('misses, fills the cache with a 300 s TTL, then hits', async () => {
    const c = await backend.customers.create({ name: 'Cached' });
    const key = `customers:${c.id}`;
    expect(await redis.exists(key)).toBe(0);
    expect(await backend.customers.get({ id: c.id })).toEqual(c);
    expect(JSON.parse((await redis.get(key))!)).toEqual(c);
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
    // A change made behind the service's back is not seen: the answer comes from Redis.
    await backend.db.collection('customers').updateOne({ _id: new ObjectId(c.id) }, { $set: { name: 'Changed behind' } });
    expect((await backend.customers.get({ id: c.id })).name).toBe('Cached');
  });

  it('rewrites the entry on update and tombstones it on delete', async () => {
    const c = await backend.customers.create({ name: 'Before' });
    await backend.customers.get({ id: c.id });
    const updated = await backend.customers.update({ id: c.id, name: 'After' });
    expect(JSON.parse((await redis.get(`customers:${c.id}`))!)).toEqual(updated);
    expect(await backend.customers.get({ id: c.id })).toEqual(updated);
    await backend.customers.delete({ id: c.id });
    await grpcError(backend.customers.get({ id: c.id }), Status.NOT_FOUND);
    expect(JSON.parse((await redis.get(`customers:${c.id}`))!)).toMatchObject({ deleted: true });
  });

  it('treats an id in capitals as the same record: one cache entry, one set of claims', async () => {
    const c = await backend.customers.create({ name: 'Case' });
    const upper = c.id.toUpperCase();
    await backend.customers.get({ id: c.id });
    expect(await backend.customers.update({ id: upper, name: 'Case 2', expectedVersion: 1 })).toMatchObject({ id: c.id, version: 2 });
    expect(await backend.customers.get({ id: c.id })).toMatchObject({ name: 'Case 2' });
    await grpcError(backend.customers.update({ id: c.id, name: 'Stale', expectedVersion: 1 }), Status.ABORTED);
    await backend.customers.delete({ id: upper });
    await grpcError(backend.customers.get({ id: c.id }), Status.NOT_FOUND);
  });

  it('serves no stale record when a writer died between its MongoDB write and its cache update', async () => {
    const c = await backend.customers.create({ name: 'Crashed writer' });
    await backend.customers.get({ id: c.id }); // cached at version 1
    const key = `customers:${c.id}`;
    expect(JSON.parse((await redis.get(key))!)).toMatchObject({ version: 1 });
    await backend.customers.update({ id: c.id, name: 'Before the crash' });
    // What a writer leaves when it dies right after writing MongoDB: its "writing" marker.
    await redis.set(key, JSON.stringify({ version: 2 ** 31, pending: true }), 'EX', 30);
    await backend.db
      .collection('customers')
      .updateOne({ _id: new ObjectId(c.id) }, { $set: { name: 'Written, then crashed', version: 3 } });
    expect((await backend.customers.get({ id: c.id })).name).toBe('Written, then crashed');
    // A read's fill cannot replace the marker; the next writer's put does.
    expect(JSON.parse((await redis.get(key))!)).toMatchObject({ pending: true });
    const next = await backend.customers.update({ id: c.id, name: 'Next writer' });
    expect(JSON.parse((await redis.get(key))!)).toEqual(next);
  });

  it('never leaves an older record in the cache when reads race updates', async () => {
    const records = await Promise.all(Array.from({ length: 5 }, (_, i) => backend.customers.create({ name: `Race ${i}` })));
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        records.flatMap((r) => [
          redis.del(`customers:${r.id}`),
          backend.customers.get({ id: r.id }),
          backend.customers.update({ id: r.id, name: `Race ${round}` }),
          backend.customers.get({ id: r.id }),
          backend.customers.get({ id: r.id }),
        ]),
      );
    }
    for (const r of records) {
      const stored = await backend.db.collection('customers').findOne({ _id: new ObjectId(r.id) });
      const got = await backend.customers.get({ id: r.id });
      expect(got.version).toBe(stored!.version);
      expect(got.name).toBe(stored!.name);
    }
  });
});

describe('update', () => {
  it('changes only the fields given and bumps the version', async () => {
    const c = await backend.customers.create({ name: 'Partial', email: 'p@example.com', phone: '123' });
    const u = await backend.customers.update({ id: c.id, phone: '456' });
    expect(u).toMatchObject({ name: 'Partial', email: 'p@example.com', phone: '456', version: 2 });
    expect(u.updatedAt! >= c.updatedAt!).toBe(true);
    const removed = await backend.customers.update({ id: c.id, email: '', expectedVersion: 2 });
    expect(removed.email).toBeUndefined();
    expect(removed.version).toBe(3);
  });

  it('refuses a stale version and changes nothing', async () => {
    const c = await backend.customers.create({ name: 'Versioned' });
    await backend.customers.update({ id: c.id, name: 'V2' });
    await grpcError(backend.customers.update({ id: c.id, name: 'Stale', expectedVersion: 1 }), Status.ABORTED, /version 1/);
    const doc = await backend.db.collection('customers').findOne({ _id: new ObjectId(c.id) });
    expect(doc).toMatchObject({ name: 'V2', version: 2 });
  });

  it('lets exactly one of many concurrent updates with the same version win', async () => {
    const c = await backend.customers.create({ name: 'Contended' });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => backend.customers.update({ id: c.id, name: `Writer ${i}`, expectedVersion: 1 })),
    );
    const winners = results.filter((r) => r.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    const doc = await backend.db.collection('customers').findOne({ _id: new ObjectId(c.id) });
    expect(doc).toMatchObject({ version: 2, name: (winners[0] as PromiseFulfilledResult<{ name: string }>).value.name });
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/ABORTED/);
  });

  it('validates the id, the fields and the version, and answers NOT_FOUND for an unknown id', async () => {
    const c = await backend.customers.create({ name: 'Valid' });
    await grpcError(backend.customers.update({ id: 'x', name: 'A' }), Status.INVALID_ARGUMENT, /^id: /);
    await grpcError(backend.customers.update({ id: c.id, name: '' }), Status.INVALID_ARGUMENT, /^name: /);
    await grpcError(backend.customers.update({ id: c.id, email: 'nope' }), Status.INVALID_ARGUMENT, /^email: /);
    await grpcError(backend.customers.update({ id: c.id, expectedVersion: 0 }), Status.INVALID_ARGUMENT, /^expectedVersion: /);
    await grpcError(backend.customers.update({ id: unknownId(), name: 'A' }), Status.NOT_FOUND);
    await grpcError(backend.customers.update({ id: unknownId(), name: 'A', expectedVersion: 3 }), Status.NOT_FOUND);
  });
});

describe('update whose caller gave up', () => {
  it('is not written, and leaves no claim behind', async () => {
    const store = new PartyStore(backend.db, 'customers');
    const c = await backend.customers.create({ name: 'Abandoned update' });
    await expect(
      store.update(new ObjectId(c.id), { name: 'Too late' }, { expectedVersion: 1, signal: AbortSignal.abort(), actor: null }),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(await backend.customers.get({ id: c.id })).toMatchObject({ name: 'Abandoned update', version: 1 });
    expect(await backend.customers.update({ id: c.id, name: 'In time', expectedVersion: 1 })).toMatchObject({
      name: 'In time',
      version: 2,
    });
  });
});

describe('batchGet', () => {
  it('returns the records found, ignoring unknown and repeated ids', async () => {
    const a = await backend.suppliers.create({ name: 'Batch A' });
    const b = await backend.suppliers.create({ name: 'Batch B' });
    const { items } = await backend.suppliers.batchGet({ ids: [a.id, unknownId(), b.id, a.id], forReference: false });
    expect(items.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
  });

  it('validates every id and the batch size', async () => {
    await grpcError(backend.suppliers.batchGet({ ids: [unknownId(), 'bad'], forReference: false }), Status.INVALID_ARGUMENT, /^ids\.1: /);
    const many = Array.from({ length: 101 }, unknownId);
    await grpcError(backend.suppliers.batchGet({ ids: many, forReference: false }), Status.INVALID_ARGUMENT, /^ids: /);
  });

  it('leaves out, for a new reference, a record that a delete has marked', async () => {
    const s = await backend.suppliers.create({ name: 'Being deleted' });
    const marks = backend.db.collection<{ _id: string; at: Date }>('suppliers_deletion_marks');
    await marks.insertOne({ _id: `${s.id}:delete`, at: new Date() });
    expect((await backend.suppliers.batchGet({ ids: [s.id], forReference: true })).items).toEqual([]);
    expect((await backend.suppliers.batchGet({ ids: [s.id], forReference: false })).items).toHaveLength(1);
    // A mark that a crashed delete left long ago no longer holds the record off.
    await marks.updateOne({ _id: `${s.id}:delete` }, { $set: { at: new Date(Date.now() - 60_000) } });
    expect((await backend.suppliers.batchGet({ ids: [s.id], forReference: true })).items).toHaveLength(1);
  });
});

describe('list', () => {
  it('searches names case-insensitively, with regex characters taken literally', async () => {
    await backend.suppliers.create({ name: 'Acme (Europe) Ltd.' });
    await backend.suppliers.create({ name: 'acme trading' });
    await backend.suppliers.create({ name: 'AcmeXEurope' });
    const found = await backend.suppliers.list({ q: 'ACME', limit: 0 });
    expect(found.items.map((s) => s.name).sort()).toEqual(['Acme (Europe) Ltd.', 'AcmeXEurope', 'acme trading']);
    expect(found.total).toBe(3);
    const literal = await backend.suppliers.list({ q: 'acme (europe', limit: 0 });
    expect(literal.items.map((s) => s.name)).toEqual(['Acme (Europe) Ltd.']);
    expect((await backend.suppliers.list({ q: '.*', limit: 0 })).total).toBe(0);
  });

  it('pages newest first with a cursor that stays stable when records are added', async () => {
    const q = `pager-${Date.now()}`;
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await backend.customers.create({ name: `${q} ${i}` }));
    const first = await backend.customers.list({ q, limit: 3 });
    expect(first.items.map((c) => c.id)).toEqual(
      created
        .slice(4)
        .reverse()
        .map((c) => c.id),
    );
    expect(first.total).toBe(7);
    expect(first.nextCursor).toBeTruthy();
    await backend.customers.create({ name: `${q} late` });
    const second = await backend.customers.list({ q, limit: 3, cursor: first.nextCursor });
    const third = await backend.customers.list({ q, limit: 3, cursor: second.nextCursor });
    expect([...second.items, ...third.items].map((c) => c.id)).toEqual(
      created
        .slice(0, 4)
        .reverse()
        .map((c) => c.id),
    );
    expect(third.nextCursor).toBeUndefined();
    expect(third.total).toBe(8);
  });

  it('defaults to 20 and refuses limits outside 1..100 and foreign cursors', async () => {
    for (let i = 0; i < 21; i++) await backend.customers.create({ name: `default-limit ${i}` });
    expect((await backend.customers.list({ q: 'default-limit', limit: 0 })).items).toHaveLength(20);
    await grpcError(backend.customers.list({ limit: 101 }), Status.INVALID_ARGUMENT, /^limit: /);
    await grpcError(backend.customers.list({ limit: -1 }), Status.INVALID_ARGUMENT, /^limit: /);
    await grpcError(backend.customers.list({ limit: 5, cursor: 'garbage' }), Status.INVALID_ARGUMENT, /^cursor: /);
    await grpcError(backend.customers.list({ q: 'x'.repeat(201), limit: 5 }), Status.INVALID_ARGUMENT, /^q: /);
  });
});

describe('delete', () => {
  it('deletes a record no order refers to, once', async () => {
    const c = await backend.customers.create({ name: 'Short-lived' });
    expect(await backend.customers.delete({ id: c.id })).toEqual({ id: c.id });
    expect(await backend.db.collection('customers').countDocuments({ _id: new ObjectId(c.id) })).toBe(0);
    await grpcError(backend.customers.delete({ id: c.id }), Status.NOT_FOUND);
    await grpcError(backend.customers.delete({ id: 'zz' }), Status.INVALID_ARGUMENT, /^id: /);
  });

  it('gives up, keeping the record, when it stalled past deleteWithinMs after marking it', async () => {
    // The same service code over the same collection, its orders Count answered by the real orders
    // service a little late: as if the process had been starved between its mark and the removal.
    const cacheRedis = new Redis(backend.redis.url);
    const service = createPartyService({
      kind: 'customer',
      store: new PartyStore(backend.db, 'customers', { timing: { ...STORAGE_TIMING, deleteWithinMs: 50 } }),
      cache: new RecordCache<Party>(cacheRedis, 'customers', 300, createLogger('test', 'silent')),
      countReferences: async (id) => {
        await sleep(100);
        return backend.orders.count({ customerId: id });
      },
    });
    try {
      const c = await backend.customers.create({ name: 'Stalled delete' });
      await expect(service.delete({ id: c.id }, {} as CallContext)).rejects.toMatchObject({
        code: Status.UNAVAILABLE,
        details: `customer ${c.id} took too long to delete; try again`,
      });
      expect(await backend.customers.get({ id: c.id })).toMatchObject({ id: c.id });
      // Its mark is gone: an order may refer to it, and a delete in time goes through.
      expect((await backend.customers.batchGet({ ids: [c.id], forReference: true })).items).toHaveLength(1);
      expect(await backend.customers.delete({ id: c.id })).toEqual({ id: c.id });
    } finally {
      cacheRedis.disconnect();
    }
  });
});

describe('suppliers', () => {
  it('is the same service over its own collection and cache keys', async () => {
    const s = await backend.suppliers.create({ name: 'Own collection' });
    await backend.suppliers.get({ id: s.id });
    expect(await redis.exists(`suppliers:${s.id}`)).toBe(1);
    expect(await redis.exists(`customers:${s.id}`)).toBe(0);
    expect(await backend.db.collection('suppliers').countDocuments({ _id: new ObjectId(s.id) })).toBe(1);
    await grpcError(backend.customers.get({ id: s.id }), Status.NOT_FOUND, /customer/);
  });
});
