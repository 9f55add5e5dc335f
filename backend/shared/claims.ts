import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Db, Document, Filter, OptionalUnlessRequiredId } from 'mongodb';
import { findByIds } from './mongo.js';

/**
 * Atomic claims, built on the one write that FerretDB 1.x (SQLite backend) makes atomic: an insert
 * that a unique `_id` refuses. The storage protocol built on them is versioned.ts (docs/design.md,
 * "Writes without transactions"). Its updates are read-modify-write of the whole document, so a
 * version in an update's filter does not stop a second writer (measured: several of 30
 * concurrent `updateOne({_id, version: 1})` report success). Claims give every writer of a record
 * exclusive rights first; on a real MongoDB they cost one small insert more.
 *
 * A claim may carry fields of its own (`T`: what the taker recorded, e.g. the order an idempotency
 * key made). A claim a crashed process left behind goes stale after `staleMs` and may be taken over.
 */
export type ClaimDoc<T extends Document = Document> = T & { _id: string; at: Date };

const DUPLICATE_KEY = 11000;
/** Stale claims are swept at most this often (and at most once per `staleMs`). */
const SWEEP_EVERY_MS = 10 * 60_000;
/** A failed release is retried for at most this long (and at most a third of `staleMs`). */
const RELEASE_RETRY_MS = 30_000;

export class Claims<T extends Document = Document> {
  private readonly collection: Collection<ClaimDoc<T>>;
  private lastSweep = 0;

  constructor(
    db: Db,
    name: string,
    private readonly staleMs = 30_000,
    /** Sweep stale claims now and then (see sweepNowAndThen); off where every claim is released by its taker. */
    private readonly options: { sweep?: boolean } = {},
  ) {
    this.collection = db.collection<ClaimDoc<T>>(name);
  }

  /** True when this caller now holds `key`; false when someone else does. */
  async take(key: string, fields?: T): Promise<boolean> {
    return (await this.takeOrGet(key, fields)).taken;
  }

  /**
   * Takes `key`; the time the claim records when this caller now holds it, else undefined. A
   * release that names that time (`release(key, { at })`) frees only this caller's claim, never
   * one that another caller took over once it went stale.
   */
  async takeAt(key: string): Promise<Date | undefined> {
    const at = new Date();
    const taken = await this.takeOrGet(key, { at } as unknown as T);
    return taken.taken ? at : undefined;
  }

  /**
   * Takes `key`, recording `fields` with it; when someone else holds it, their claim as they
   * recorded it (absent only when it came and went while this call looked).
   */
  async takeOrGet(key: string, fields?: T): Promise<{ taken: true } | { taken: false; holder?: ClaimDoc<T> }> {
    this.sweepNowAndThen();
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.collection.insertOne({ at: new Date(), ...fields, _id: key } as OptionalUnlessRequiredId<ClaimDoc<T>>);
        return { taken: true };
      } catch (err) {
        if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
      }
      const existing = await this.collection.findOne(this.filter(key));
      if (existing && existing.at.getTime() > Date.now() - this.staleMs) return { taken: false, holder: existing as ClaimDoc<T> };
      // Stale (or released in between): free again. The `at` filter keeps a claim another taker just wrote.
      if (existing) await this.collection.deleteOne(this.filter(key, { at: existing.at } as Partial<ClaimDoc<T>>));
    }
    const holder = await this.collection.findOne(this.filter(key));
    return holder ? { taken: false, holder: holder as ClaimDoc<T> } : { taken: false };
  }

  /** Records more fields on a claim, if it is still the one `match` describes. */
  async annotate(key: string, match: Partial<T>, fields: Partial<T>) {
    await this.collection.updateOne(this.filter(key, match), { $set: fields as Partial<ClaimDoc<T>> });
  }

  /** Drops the claim on `key`; with `match`, only if it is still the one that describes. */
  async release(key: string, match?: Partial<T>) {
    await this.collection.deleteOne(this.filter(key, match));
  }

  /**
   * Releases `key` even when MongoDB is unreachable right now: a failed release is retried in
   * the background. Without this, a write that failed because the database went away left its
   * claim behind, and the record could not be updated until the claim went stale (30 s after
   * the database was back). Retries stop after a third of `staleMs` (30 s at most), well before
   * anyone may take the claim over (a claim is taken at most a socket timeout, 10 s, before its
   * write fails), so a late retry can never delete a claim somebody else took over. Never throws.
   */
  async releaseEventually(key: string, match?: Partial<T>) {
    await this.retryRelease(key, match, Date.now() + Math.min(this.staleMs / 3, RELEASE_RETRY_MS), 100);
  }

  private async retryRelease(key: string, match: Partial<T> | undefined, giveUpAt: number, delay: number): Promise<void> {
    try {
      await this.release(key, match);
    } catch {
      if (Date.now() + delay > giveUpAt) return;
      // The first attempt is awaited by the caller; the retries go on in the background.
      void sleep(delay, undefined, { ref: false }).then(() => this.retryRelease(key, match, giveUpAt, Math.min(delay * 2, 1_000)));
    }
  }

  /**
   * Removes stale claims now and then, in the background: claims a writer leaves on purpose (the
   * version it wrote, see versioned.ts; an idempotency key's record) and those of crashed writers. One write now and then instead of one per update.
   */
  private sweepNowAndThen() {
    if (this.options.sweep === false) return;
    const now = Date.now();
    if (now - this.lastSweep < Math.min(this.staleMs, SWEEP_EVERY_MS)) return;
    this.lastSweep = now;
    this.collection.deleteMany({ at: { $lt: new Date(now - this.staleMs) } } as Filter<ClaimDoc<T>>).catch(() => {
      this.lastSweep = 0;
    });
  }

  /** Which of `keys` are held now (stale claims do not count). */
  async held(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const since = Date.now() - this.staleMs;
    const docs = await findByIds(this.collection, keys);
    return new Set(docs.filter((doc) => doc.at.getTime() > since).map((doc) => doc._id as string));
  }

  private filter(key: string, match?: Partial<ClaimDoc<T>>): Filter<ClaimDoc<T>> {
    return { ...match, _id: key } as Filter<ClaimDoc<T>>;
  }
}
