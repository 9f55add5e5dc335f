import { type Collection, type Db, type Document, type Filter, type FindCursor, MongoClient, ObjectId, type WithId } from 'mongodb';
import type { Logger } from './logger.js';

/**
 * The client's limits on one operation, which the storage protocol's margins build on
 * (versioned.ts, checkStorageTiming): how long it may look for a server, then wait for a pooled
 * connection, then take on its socket.
 */
export const DRIVER_TIMING = { serverSelectionTimeoutMs: 1_500, waitQueueTimeoutMs: 2_000, socketTimeoutMs: 10_000 } as const;

/**
 * One client per process, connected at start-up. Short server-selection timeouts make a dead
 * database fail a call within its deadline (as UNAVAILABLE) instead of hanging it; the driver
 * reconnects by itself when the server is back.
 */
export async function connectMongo(url: string, dbName: string): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: DRIVER_TIMING.serverSelectionTimeoutMs,
    // How often the driver re-checks a server it lost: the default 10 s kept a returned database
    // unused for that long (seen under load in scripts/chaos.ts); 1 s keeps recovery within seconds.
    heartbeatFrequencyMS: 1_000,
    connectTimeoutMS: 1_500,
    socketTimeoutMS: DRIVER_TIMING.socketTimeoutMs,
    waitQueueTimeoutMS: DRIVER_TIMING.waitQueueTimeoutMs,
    maxPoolSize: 20,
    retryWrites: false, // FerretDB 1.x has no retryable writes
  });
  await client.connect();
  const info = await client.db('admin').command({ buildInfo: 1 });
  counting = 'ferretdbVersion' in info ? 'count' : 'estimate';
  return { client, db: client.db(dbName) };
}

/**
 * How collectionCount counts, decided by the server this process connected to: MongoDB keeps a
 * collection's size in its metadata (estimatedDocumentCount, no read of the documents); FerretDB's
 * `count` command and `$collStats` walk the whole table (5 s and 90 ms at 100,000 documents), where
 * our build answers `countDocuments({})` with one SQL count over an index (4 ms; docs/benchmarks.md).
 */
let counting: 'count' | 'estimate' = 'count';

/**
 * The documents of `cursor`, mapped, one at a time until `signal` aborts (a server stream's
 * caller gone): the cursor is closed either way, and never read whole into memory.
 */
export async function* streamCursor<T, R>(cursor: FindCursor<T>, signal: AbortSignal, map: (doc: T) => R): AsyncGenerator<R> {
  try {
    for await (const doc of cursor) {
      if (signal.aborted) return;
      yield map(doc);
    }
  } finally {
    await cursor.close();
  }
}

/** Up to this many ids, findByIds looks each up by `_id` alone. */
const FEW_IDS = 16;

/**
 * The documents with these `_id`s (missing ones left out). FerretDB 1.x finds a lone `_id` through
 * its index (0.5 ms here; with our build, see scripts/install-infra.sh) and evaluates anything
 * else, `$in` included, in Go over every document: a few ids are looked up one by one, in parallel.
 */
export async function findByIds<T extends Document, Id>(collection: Collection<T>, ids: Id[]): Promise<WithId<T>[]> {
  if (ids.length === 0) return [];
  if (ids.length > FEW_IDS) return collection.find({ _id: { $in: ids } } as Filter<T>).toArray();
  const found = await Promise.all(ids.map((_id) => collection.findOne({ _id } as Filter<T>)));
  return found.filter((doc) => doc !== null);
}

/** Ids per presentIds query. */
const IDS_PER_QUERY = 100;

/**
 * Which of `ids` are `_id`s in the collection (as strings: hex for ObjectIds), reading nothing but
 * `_id`. Asked 100 at a time as an `$or` of `_id` equalities, which MongoDB and our FerretDB build
 * answer through the `_id` index (0.3 ms an id here; an `$in` FerretDB evaluates in Go over every
 * document) — unless the ids are many for the collection's size: then one scan of its `_id`s is
 * cheaper (0.03 ms a document). `beat` is called between queries (a long check inside an import).
 */
export async function presentIds<T extends Document>(
  collection: Collection<T>,
  ids: (string | ObjectId)[],
  beat: () => Promise<void> = async () => {},
): Promise<Set<string>> {
  const key = (id: unknown) => (id instanceof ObjectId ? id.toHexString() : String(id));
  const present = new Set<string>();
  if (ids.length > IDS_PER_QUERY && ids.length * 10 > (await collectionCount(collection))) {
    const wanted = new Set(ids.map(key));
    let read = 0;
    for await (const doc of collection.find({}, { projection: { _id: 1 } }).batchSize(5_000)) {
      const id = key(doc._id);
      if (wanted.has(id)) present.add(id);
      if (++read % 50_000 === 0) await beat();
    }
    return present;
  }
  for (let at = 0; at < ids.length; at += IDS_PER_QUERY) {
    if (at > 0 && at % (IDS_PER_QUERY * 20) === 0) await beat();
    const chunk = ids.slice(at, at + IDS_PER_QUERY);
    const found = await collection.find({ $or: chunk.map((_id) => ({ _id })) } as Filter<T>, { projection: { _id: 1 } }).toArray();
    for (const doc of found) present.add(key(doc._id));
  }
  return present;
}

/**
 * Search by part of a field: the filter value matching values that contain `text`, in any case
 * (a case-insensitive regex of the text, its special characters escaped).
 */
export function containing(text: string) {
  return { $regex: text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), $options: 'i' };
}

/**
 * The index that makes `containing` on `field` fast. On MongoDB such a regex then scans the
 * index's keys instead of the documents. On our FerretDB build an index named `<field>_search`
 * also keeps a trigram table of the field's case-folded values (scripts/ferretdb/pushdown.patch,
 * metadata/search.go): a page and its count come from it without reading every document.
 */
export function createSearchIndex<T extends Document>(collection: Collection<T>, field: string & keyof T) {
  return collection.createIndex({ [field]: 1 } as never, { name: `${field}_search` });
}

/** How many documents a collection holds, the cheapest way the server can say it exactly (see `counting`). */
export async function collectionCount<T extends Document>(collection: Collection<T>): Promise<number> {
  return counting === 'estimate' ? collection.estimatedDocumentCount() : collection.countDocuments({});
}

const HEARTBEAT_EVENTS = ['serverHeartbeatStarted', 'serverHeartbeatSucceeded', 'serverHeartbeatFailed'] as const;
const RETRY_MS = 1_000;
const TICK_MS = 1_000;

/**
 * Reconnects `client` when its server monitor has gone quiet: no heartbeat started, succeeded or
 * failed for `stallMs` (the monitor checks every second; a failing check ends within
 * connectTimeoutMS). Seen in `npm run chaos` (driver 7.9, FerretDB stopped for 20 s under load): a
 * service's monitor went silent the moment the database went away and never checked again, so
 * every call of that service failed server selection long after the database was back, while the
 * other services recovered within a second. A reconnect builds a new
 * monitor; callers keep their `Db` and collections. Returns the function that stops watching and
 * waits for a reconnect under way (call it before the client is closed for good).
 */
export function watchMonitor(client: MongoClient, log: Logger, stallMs = 4_000): () => Promise<void> {
  // A load-balanced connection has no server monitor to watch.
  if (client.options.loadBalanced) return async () => {};
  let lastBeat = Date.now();
  let lastTick = Date.now();
  const beat = () => {
    lastBeat = Date.now();
  };
  for (const event of HEARTBEAT_EVENTS) client.on(event, beat);
  let stopped = false;
  let reconnecting: Promise<void> | undefined;
  const timer = setInterval(() => {
    const now = Date.now();
    // A late tick means this process was starved (its event loop blocked), not that the monitor
    // stalled: count afresh rather than close a client whose calls are merely late.
    if (now - lastTick > 2 * TICK_MS) lastBeat = now;
    lastTick = now;
    if (stopped || reconnecting || now - lastBeat < stallMs) return;
    log.warn({ quietMs: now - lastBeat }, 'mongodb monitor stalled; reconnecting');
    reconnecting = (async () => {
      await client.close();
      if (stopped) return;
      await client.connect();
      // Stopped meanwhile: the service is closing the client for good; do not leave this one open.
      if (stopped) await client.close();
      lastBeat = Date.now();
    })()
      .catch((err: unknown) => {
        // The database is still away: a client whose connect failed has no monitor, so try again
        // in a second rather than after another `stallMs`.
        lastBeat = Date.now() - stallMs + RETRY_MS;
        log.warn({ err: err instanceof Error ? err.message : err }, 'mongodb reconnect failed; trying again');
      })
      .finally(() => {
        reconnecting = undefined;
      });
  }, TICK_MS);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    for (const event of HEARTBEAT_EVENTS) client.off(event, beat);
    await reconnecting;
  };
}
