import type { Logger } from './logger.js';
import { cacheRequests, redisErrors } from './metrics.js';
import type { Redis } from './redis.js';

/**
 * Cache-aside for get-by-id, keyed `<collection>:<id>`, holding the record as JSON.
 *
 * Staleness rules (see docs/design.md):
 * - every write into the cache is guarded by the record's version (a Lua script sets the key only
 *   when it is absent or holds an older version), so a read that fetched the old record before an
 *   update cannot put it back after the update has stored the new one;
 * - a delete leaves a tombstone (a version above any real one) for the TTL, which no late read
 *   can overwrite;
 * - when Redis cannot be told about a write, the id is remembered: reads of it skip the cache,
 *   and the key is dropped as soon as Redis is back. Redis trouble never fails a request.
 */
export interface Versioned {
  id: string;
  version: number;
}

const TOMBSTONE_VERSION = 2 ** 31;
const TOMBSTONE = JSON.stringify({ version: TOMBSTONE_VERSION, deleted: true });
/** Set before a write reaches MongoDB; only the writer's own put replaces it (see markWriting). */
const WRITING = JSON.stringify({ version: TOMBSTONE_VERSION, pending: true });
const WRITING_TTL_SECONDS = 30;
const MAX_UNSYNCED = 10_000;
const RESYNC_RETRY_MS = 250;

const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, doc = pcall(cjson.decode, current)
  local overrides = ok and type(doc) == 'table' and doc.pending and ARGV[4] == 'put'
  if not overrides and ok and type(doc) == 'table' and tonumber(doc.version) and tonumber(doc.version) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
`;

type RedisWithScripts = Redis & {
  setIfNewer(key: string, value: string, version: number, ttlSeconds: number, mode: 'fill' | 'put'): Promise<number>;
};

export class RecordCache<T extends Versioned> {
  private readonly redis: RedisWithScripts;
  private readonly prefix: string;
  /** Ids whose latest write Redis has not heard of; their reads skip the cache. */
  private readonly unsynced = new Map<string, number>(); // id → write sequence, so a newer failure is kept
  private sequence = 0;
  private overflowed = false;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    redis: Redis,
    private readonly collection: string,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
    keyPrefix = '',
  ) {
    if (!('setIfNewer' in redis)) redis.defineCommand('setIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER });
    this.redis = redis as RedisWithScripts;
    this.prefix = `${keyPrefix}${collection}:`;
    redis.on('ready', () => void this.resync());
  }

  key(id: string) {
    return this.prefix + id;
  }

  /** The cached record, or undefined on a miss (or whenever the cache cannot be trusted or reached). */
  async get(id: string): Promise<T | undefined> {
    if (this.overflowed || this.unsynced.has(id)) return undefined;
    let raw: string | null;
    try {
      raw = await this.redis.get(this.key(id));
    } catch (err) {
      this.failed('get', err);
      cacheRequests.inc({ collection: this.collection, result: 'error' });
      return undefined;
    }
    if (raw === null) {
      cacheRequests.inc({ collection: this.collection, result: 'miss' });
      return undefined;
    }
    const record = JSON.parse(raw) as T & { deleted?: boolean; pending?: boolean };
    if (record.deleted || record.pending) {
      cacheRequests.inc({ collection: this.collection, result: 'miss' });
      return undefined;
    }
    cacheRequests.inc({ collection: this.collection, result: 'hit' });
    return record;
  }

  /** Stores a record read from the database (after a miss), unless the cache holds a newer one. */
  async fill(record: T): Promise<void> {
    if (this.overflowed || this.unsynced.has(record.id)) return;
    try {
      await this.redis.setIfNewer(this.key(record.id), JSON.stringify(record), record.version, this.ttlSeconds, 'fill');
    } catch (err) {
      this.failed('fill', err);
    }
  }

  /**
   * Before an update or delete reaches MongoDB: the entry becomes a "writing" marker that reads
   * treat as a miss and fills cannot replace, until the writer's put (or tombstone) does. A writer
   * that dies between its MongoDB write and its put thus leaves no stale record behind.
   */
  async markWriting(id: string): Promise<void> {
    try {
      await this.redis.set(this.key(id), WRITING, 'EX', WRITING_TTL_SECONDS);
    } catch (err) {
      this.failed('mark', err);
      this.remember(id);
    }
  }

  /** Rewrites the entry after an update, so the next read already finds the new record. */
  async put(record: T): Promise<void> {
    try {
      await this.redis.setIfNewer(this.key(record.id), JSON.stringify(record), record.version, this.ttlSeconds, 'put');
    } catch (err) {
      this.failed('put', err);
      this.remember(record.id);
    }
  }

  /** Replaces the entry with a tombstone after a delete. */
  async drop(id: string): Promise<void> {
    try {
      await this.redis.set(this.key(id), TOMBSTONE, 'EX', this.ttlSeconds);
    } catch (err) {
      this.failed('drop', err);
      this.remember(id);
    }
  }

  private remember(id: string) {
    if (this.unsynced.size >= MAX_UNSYNCED) this.overflowed = true;
    else this.unsynced.set(id, ++this.sequence);
    this.scheduleResync();
  }

  /** Retries until Redis answers: a hung server that wakes up sends no 'ready' event. */
  private scheduleResync() {
    this.resyncTimer ??= setTimeout(() => {
      this.resyncTimer = undefined;
      void this.resync();
    }, RESYNC_RETRY_MS).unref();
  }

  /** Redis answers again: drop every key it may hold stale, then trust the cache again. */
  private async resync() {
    if (!this.overflowed && this.unsynced.size === 0) return;
    const pending = [...this.unsynced];
    const ids = pending.map(([id]) => id);
    const overflowed = this.overflowed;
    try {
      if (overflowed) await this.dropAll();
      else await this.redis.del(...ids.map((id) => this.key(id)));
      for (const [id, seq] of pending) if (this.unsynced.get(id) === seq) this.unsynced.delete(id);
      if (overflowed) this.overflowed = false;
      this.log.info({ collection: this.collection, keys: overflowed ? 'all' : ids.length }, 'cache resynchronised after redis outage');
    } catch (err) {
      this.failed('resync', err);
    }
    if (this.overflowed || this.unsynced.size > 0) this.scheduleResync();
  }

  private async dropAll() {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  }

  private failed(operation: string, err: unknown) {
    redisErrors.inc({ operation: `cache_${operation}` });
    this.log.debug({ err: err instanceof Error ? err.message : err, operation }, 'cache unavailable');
  }
}
