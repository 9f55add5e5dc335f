import { connectMongo, containing, createSearchIndex } from '@pdash/backend-shared/mongo';
import { type Collection, type Filter, type MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * Substring search (issue 13): on our FerretDB build (scripts/ferretdb/pushdown.patch, pdash4) an
 * index named `<field>_search` keeps a trigram table of the field's case-folded values, and a
 * case-insensitive regex that is a plain string (`containing`) finds its page and its count
 * through it. Its answers must be FerretDB's own: each query is compared with the same regex
 * written so that the pushdown leaves it alone (`(?:…)`), which FerretDB evaluates in Go over every
 * document, as stock 1.24.2 does for all of them.
 */
const DB = 'test_ferretdb_search';
const DOCS = 3_000;

type Doc = { _id: ObjectId; name?: unknown; createdAt: Date };

let client: MongoClient;
let docs: Collection<Doc>;
let clock = Date.UTC(2026, 0, 1);

/** The same search, in a form the pushdown does not translate: FerretDB evaluates it in Go. */
const inGo = (text: string) => ({ $regex: `(?:${containing(text).$regex})`, $options: 'i' });
const newestFirst = { createdAt: -1, _id: -1 } as const;

/** Names whose case folds are not ASCII's: the long s (ſ) and the Kelvin sign (K) fold with s and k; σ, ς and Σ with each other. */
const SPECIAL = [
  'Ann Anderson',
  'ANNA KARENINA',
  'José Müller',
  'JOSÉ MÜLLER GmbH',
  'ſamuel Smith',
  '\u212Aelvin Klein',
  'Σίσυφος',
  'ΣΊΣΥΦΟΣ & Co',
  'a*b?[c]"q\\z',
  '\u01C4emal', // Ǆ: its orbit is Ǆ ǅ ǆ
  'Nul\u0000Byte Ltd', // SQLite's text functions stop at a NUL; Go's regexp does not
];
const QUERIES = [
  'ann',
  'a',
  'an',
  'ltd',
  'LTD',
  'anderson',
  'ann anderson',
  'josé',
  'jose',
  'müller',
  'SAM',
  'kelvin',
  'σίσυφος',
  'a*b?[c]"q\\z',
  '*',
  '?',
  '"',
  '\u01C6',
  'zzzz',
];

/** A document; without `name` when it is undefined (the driver would write null). */
function makeDoc(name: unknown): Doc {
  clock += 1000;
  return { _id: new ObjectId(), ...(name === undefined ? {} : { name }), createdAt: new Date(clock) };
}

/** Filler names: a few common words (so some searches match thousands) and a random part (so others match a handful). */
function fillerName(n: number) {
  const first = ['Ann', 'Bob', 'Carla', 'Dmitri', 'Eve', 'Frank', 'Greta', 'Hiro'][n % 8];
  const last = ['Anderson', 'Brown', 'Carter', 'Dalton', 'Evans'][Math.floor(n / 8) % 5];
  return `${first} ${last} ${(n * 7919).toString(36)} Ltd`;
}

async function search(collection: Collection<Doc>, filter: Filter<Doc>, limit = 21) {
  const [page, total] = await Promise.all([
    collection.find(filter).sort(newestFirst).limit(limit).toArray(),
    collection.countDocuments(filter),
  ]);
  return { page: page.map((doc) => doc._id.toHexString()), total };
}

/** Every query answers as FerretDB's Go evaluation does: the page, a page after a cursor, the count. */
async function expectSameAsGo(collection: Collection<Doc>, queries = QUERIES) {
  for (const q of queries) {
    const pushed = await search(collection, { name: containing(q) });
    const control = await search(collection, { name: inGo(q) });
    expect({ q, ...pushed }).toEqual({ q, ...control });
    if (pushed.total > 21) {
      const cursorDoc = (await collection.findOne({ _id: ObjectId.createFromHexString(pushed.page[19]!) }))!;
      const after = { $or: [{ createdAt: { $lt: cursorDoc.createdAt } }, { createdAt: cursorDoc.createdAt, _id: { $lt: cursorDoc._id } }] };
      const next = await search(collection, { $and: [{ name: containing(q) }, after] });
      expect({ q, page: next.page }).toEqual({ q, page: (await search(collection, { $and: [{ name: inGo(q) }, after] })).page });
    }
  }
}

beforeAll(async () => {
  ({ client } = await connectMongo(inject('mongoUrl'), DB));
  docs = client.db(DB).collection('docs');
  await docs.drop().catch(() => {});
  await docs.createIndex(newestFirst, { name: 'newest_first' });
  const all = Array.from({ length: DOCS }, (_, n) => makeDoc(fillerName(n)));
  for (let i = 0; i < DOCS; i += 1_000) await docs.insertMany(all.slice(i, i + 1_000));
  // the index comes after the documents: its trigram table is filled from them
  await createSearchIndex(docs, 'name');
  await docs.insertMany([...SPECIAL.map(makeDoc), makeDoc(undefined)]);
});
afterAll(async () => {
  await client?.db(DB).dropDatabase();
  await client?.close();
});

describe('FerretDB substring search through a trigram table', () => {
  it('answers every search as FerretDB does in Go: pages, a page after a cursor, counts', async () => {
    await expectSameAsGo(docs);
    const names = async (q: string) => (await docs.find({ name: containing(q) }).toArray()).map((doc) => doc.name);
    expect(await names('SAM')).toContain('ſamuel Smith');
    expect(await names('kelvin')).toEqual(['\u212Aelvin Klein']);
    expect((await names('σίσυφος')).sort()).toEqual(['ΣΊΣΥΦΟΣ & Co', 'Σίσυφος']);
    expect((await names('josé')).sort()).toEqual(['JOSÉ MÜLLER GmbH', 'José Müller']);
    expect(await names('jose')).toEqual([]);
    expect(await names('\u01C6')).toEqual(['\u01C4emal']);
    expect(await docs.countDocuments({ name: containing('ltd') })).toBe(DOCS + 1);
    expect(await names('byte')).toEqual(['Nul\u0000Byte Ltd']);
    // a search inside an $or is one branch of the condition: the count is not the search's alone
    const combined = (match: typeof containing): Filter<Doc>[] => [
      { $or: [{ name: match('kelvin') }, { name: 'ANNA KARENINA' }] },
      { $or: [{ name: match('σίσυφος') }, {}] },
      { $and: [{ name: match('anderson') }] },
    ];
    const pushed = combined(containing);
    const inGoToo = combined(inGo);
    for (const [i, filter] of pushed.entries()) {
      expect({ i, count: await docs.countDocuments(filter) }).toEqual({ i, count: await docs.countDocuments(inGoToo[i]!) });
    }
  });

  it('follows every write: insert, update, replace, delete', async () => {
    const doc = makeDoc('Quincy Quartermaine');
    await docs.insertOne(doc);
    expect((await search(docs, { name: containing('quartermain') })).page).toEqual([doc._id.toHexString()]);
    await docs.updateOne({ _id: doc._id }, { $set: { name: 'Xavier Xylophone' } });
    expect((await search(docs, { name: containing('quartermain') })).total).toBe(0);
    expect((await search(docs, { name: containing('xylo') })).page).toEqual([doc._id.toHexString()]);
    await docs.replaceOne({ _id: doc._id }, { name: 'Yolanda Yarrow', createdAt: doc.createdAt });
    expect((await search(docs, { name: containing('xylo') })).total).toBe(0);
    expect((await search(docs, { name: containing('yarrow') })).total).toBe(1);
    await docs.updateOne({ _id: doc._id }, { $unset: { name: '' } });
    expect((await search(docs, { name: containing('yarrow') })).total).toBe(0);
    await docs.deleteOne({ _id: doc._id });
    await docs.deleteMany({ name: containing('dalton') });
    await expectSameAsGo(docs, ['dalton', 'ann', 'ltd']);
  });

  it('concurrent writes wait for each other instead of failing (the triggers read before they write)', async () => {
    // pdash4 before BEGIN IMMEDIATE: 7 of 100 such updates failed with SQLITE_BUSY
    const racers = [0, 1, 2, 3, 4].map((i) => makeDoc(`Racer ${i}`));
    await docs.insertMany(racers);
    for (let round = 0; round < 20; round++) {
      await Promise.all([
        ...racers.map((doc) => docs.updateOne({ _id: doc._id }, { $set: { name: `Racer ${round} lap` } })),
        docs.insertOne(makeDoc(`Racer extra ${round}`)),
      ]);
    }
    expect(await docs.countDocuments({ name: containing('19 lap') })).toBe(5);
    expect(await docs.countDocuments({ name: containing('racer') })).toBe(25);
    await docs.deleteMany({ name: containing('racer') });
  });

  it('a page and its count take a fraction of the scan FerretDB does without the table', async () => {
    const times = { pushed: [] as number[], scanned: [] as number[] };
    for (let round = 0; round < 8; round++) {
      for (const [kind, filter] of [
        ['pushed', { name: containing('anderson') }],
        ['scanned', { name: inGo('anderson') }],
      ] as const) {
        const started = performance.now();
        await search(docs, filter);
        if (round >= 2) times[kind].push(performance.now() - started);
      }
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
    expect(median(times.pushed) * 4).toBeLessThan(median(times.scanned));
  });

  it('dropping the index, or a VACUUM, leaves the answers right; the table comes back with the index', async () => {
    await docs.dropIndex('name_search');
    await expectSameAsGo(docs, ['ann', 'sam', 'zzzz']);
    await docs.insertOne(makeDoc('Zed Zzzz'));
    await createSearchIndex(docs, 'name');
    await expectSameAsGo(docs, ['ann', 'sam', 'zzzz']);
    // a full compact VACUUMs, which may renumber the rows the trigram table refers to
    await docs.deleteMany({ name: containing('brown') });
    await client.db(DB).command({ compact: 'docs', force: true });
    await docs.insertOne(makeDoc('Brown After Vacuum'));
    await expectSameAsGo(docs, ['brown', 'ann', 'ltd', 'zzzz']);
  });

  it('a collection dropped and made again gets its table again; values that are not strings are searched as MongoDB does', async () => {
    const other = client.db(DB).collection<Doc>('other');
    await other.drop().catch(() => {});
    await createSearchIndex(other, 'name');
    await other.insertMany([makeDoc('Ann One'), makeDoc('Bob Two')]);
    await other.drop();
    await createSearchIndex(other, 'name');
    await other.insertMany([makeDoc('Ann Three'), makeDoc(['Ann Four', 4]), makeDoc(42), makeDoc({ name: 'Ann Five' })]);
    // an array's string elements match; a number or a document never does
    expect(
      (
        await other
          .find({ name: containing('ann') })
          .sort(newestFirst)
          .toArray()
      ).map((doc) => doc.name),
    ).toEqual([['Ann Four', 4], 'Ann Three']);
    await expectSameAsGo(other, ['ann', 'four', '4']);
  });
});
