import { randomBytes } from 'node:crypto';
import { type Db, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ImportRun, Imports } from './imports.js';

/*
 * The import protocol (imports.ts) against the run's FerretDB: what a process that stops at each
 * step leaves, and what a recovery or a retry with the same key makes of it. `staleMs: 0` stands
 * for "the run has been silent long enough".
 */
let client: MongoClient;
let db: Db;

beforeAll(async () => {
  client = new MongoClient(inject('mongoUrl'), { retryWrites: false });
  await client.connect();
  db = client.db(`test_imports_${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await db?.dropDatabase();
  await client?.close();
});

function setUp(staleMs = 60_000) {
  const records = db.collection<{ _id: ObjectId; name: string }>(`things_${randomBytes(3).toString('hex')}`);
  const imports = new Imports(db, records, { entity: 'customer', staleMs });
  const write = (run: ImportRun, names: string[]) => run.stage(names.map((name) => ({ _id: new ObjectId(), name })));
  const visible = async () => (await records.find({}).toArray()).map((r) => r.name).sort();
  const staged = async () =>
    (await db.listCollections({}, { nameOnly: true }).toArray()).filter((c) => c.name.startsWith(`${records.collectionName}_staging_`))
      .length;
  return { records, imports, write, visible, staged };
}

const start = async (imports: Imports, key: string, fingerprint = 'f1') => {
  const begun = await imports.begin(key, fingerprint, null);
  if (begun.status !== 'run') throw new Error(`expected a run, got ${JSON.stringify(begun)}`);
  return begun.run;
};

describe('imports, all or nothing', () => {
  it('shows nothing until the commit, then everything', async () => {
    const { imports, write, visible } = setUp();
    const run = await start(imports, 'a');
    await write(run, ['one', 'two']);
    expect(await visible()).toEqual([]);
    expect(await run.commit(2)).toBe(true);
    expect(await visible()).toEqual(['one', 'two']);
    expect(await imports.begin('a', 'f1', null)).toEqual({ status: 'done', created: 2 });
  });

  it('a run cut off before its decision: nothing visible; recovery deletes it; the retry imports afresh', async () => {
    const { records, imports, write, visible, staged } = setUp(0);
    const run = await start(imports, 'b');
    await write(run, ['half']);
    // …the process dies here.
    expect(await visible()).toEqual([]);
    expect(await imports.recover()).toBe(1);
    expect(await records.countDocuments({})).toBe(0);
    expect(await staged()).toBe(0);
    const retry = await start(imports, 'b');
    await write(retry, ['half', 'whole']);
    expect(await retry.commit(2)).toBe(true);
    expect(await visible()).toEqual(['half', 'whole']);
  });

  it('a run cut off after its commit decision is completed: by recovery, or by the retry', async () => {
    for (const completer of ['recovery', 'retry'] as const) {
      const { records, imports, write, visible } = setUp(0);
      const run = await start(imports, 'c');
      await write(run, ['x', 'y']);
      // The decision lands, the copy does not (or only part of it): as if the process died between the two.
      await db
        .collection(`${records.collectionName}_import_decisions`)
        .insertOne({ _id: `end:${run.tag}` as never, outcome: 'commit', created: 2, at: new Date() });
      expect(await visible()).toEqual([]);
      if (completer === 'recovery') await imports.recover();
      else expect(await imports.begin('c', 'f1', null)).toEqual({ status: 'done', created: 2 });
      expect(await visible()).toEqual(['x', 'y']);
      // Completed once: a second recovery copies nothing twice.
      await imports.recover();
      expect(await visible()).toEqual(['x', 'y']);
    }
  });

  it('a live run keeps its key: a retry meanwhile is told to wait; the same key with another file is refused', async () => {
    const { imports } = setUp();
    await start(imports, 'd');
    await expect(imports.begin('d', 'f1', null)).rejects.toMatchObject({ details: expect.stringMatching(/under way/) });
    await expect(imports.begin('d', 'f2', null)).rejects.toMatchObject({ details: expect.stringMatching(/^Idempotency-Key: /) });
  });

  it('a recovery that rolls a stalled run back wins over its late commit', async () => {
    const { records, imports, write, visible } = setUp(0);
    const run = await start(imports, 'e');
    await write(run, ['late']);
    await imports.recover();
    expect(await run.commit(1)).toBe(false);
    expect(await visible()).toEqual([]);
    expect(await records.countDocuments({})).toBe(0);
  });

  it('a start claim whose run never recorded itself does not block the key once it is stale', async () => {
    const { records, imports, write, visible } = setUp(0);
    // As if a process took the claim for attempt 1 and died before recording the run.
    await db
      .collection(`${records.collectionName}_import_claims`)
      .insertOne({ _id: `start:${imports.idOf('f')}:1` as never, at: new Date(0) });
    const run = await start(imports, 'f');
    expect(run.tag).toBe(`${imports.idOf('f')}:2`);
    await write(run, ['after']);
    expect(await run.commit(1)).toBe(true);
    expect(await visible()).toEqual(['after']);
  });

  it('a copy cut off midway is taken over only once it went quiet, and goes on from where it stopped', async () => {
    const { records, imports, write, visible } = setUp(60_000);
    const run = await start(imports, 'g');
    await write(run, ['a', 'b', 'c']);
    await db
      .collection(`${records.collectionName}_import_decisions`)
      .insertOne({ _id: `end:${run.tag}` as never, outcome: 'commit', created: 3, at: new Date() });
    // Part of the copy landed (the lowest id), then the process died.
    const staged = await db
      .collection(`${records.collectionName}_staging_${run.tag.replace(':', '_')}`)
      .find({})
      .sort({ _id: 1 })
      .toArray();
    await records.insertOne(staged[0] as never);
    await db
      .collection(`${records.collectionName}_imports`)
      .updateOne({ _id: imports.idOf('g') as never }, { $set: { copiedThrough: staged[0]!._id } });
    // Fresh: its own process may still be copying.
    expect(await imports.recover()).toBe(0);
    await db.collection(`${records.collectionName}_imports`).updateOne({ _id: imports.idOf('g') as never }, { $set: { at: new Date(0) } });
    expect(await imports.recover()).toBe(1);
    expect(await visible()).toEqual(['a', 'b', 'c']);
    expect(await imports.begin('g', 'f1', null)).toEqual({ status: 'done', created: 3 });
  });

  it('a stream cut short is refused, not imported as if it were whole', async () => {
    const { readImport } = await import('./import-stream.js');
    async function* cutShort() {
      yield { start: { idempotencyKey: 'k', fingerprint: 'f', dryRun: false, totalRows: 3 } };
      yield { rows: { rows: [{ name: 'only one' }] } };
    }
    await expect(readImport(cutShort(), (row: { name: string }) => row)).rejects.toMatchObject({
      details: 'rows: 1 arrived of the 3 announced',
    });
  });

  it('forgets an import a day after it ended: its key may then be used afresh', async () => {
    const { records, imports, write } = setUp();
    const run = await start(imports, 'h');
    await write(run, ['old']);
    await run.commit(1);
    await db
      .collection(`${records.collectionName}_imports`)
      .updateOne({ _id: imports.idOf('h') as never }, { $set: { at: new Date(Date.now() - 25 * 3_600_000) } });
    await imports.recover();
    expect(await db.collection(`${records.collectionName}_imports`).countDocuments({})).toBe(0);
    expect(await db.collection(`${records.collectionName}_import_decisions`).countDocuments({})).toBe(0);
    expect((await imports.begin('h', 'another file', null)).status).toBe('run');
  });
});
