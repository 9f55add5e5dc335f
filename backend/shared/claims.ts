import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Db } from 'mongodb';

/**
 * Atomic claims, built on the one write that FerretDB 1.x (SQLite backend) makes atomic: an insert
 * that a unique `_id` refuses. Its updates are read-modify-write of the whole document, so a
 * version in an update's filter does not stop a second writer (measured: several of 30
 * concurrent `updateOne({_id, version: 1})` report success). Claims give every writer of a record
 * exclusive rights first; on a real MongoDB they cost one small insert more.
 *
 * A claim a crashed process left behind goes stale after `staleMs` and may be taken over.
 */
interface ClaimDoc {
  _id: string;
  at: Date;
}

const DUPLICATE_KEY = 11000;
/** Up to this many keys, `held` looks each up by `_id` alone. */
const FEW_KEYS = 8;

export class Claims {
  private readonly collection: Collection<ClaimDoc>;
  private lastSweep = Date.now();

  constructor(
    db: Db,
    name: string,
    private readonly staleMs = 30_000,
    /** Sweep stale claims now and then (see sweepNowAndThen); off where every claim is released by its taker. */
    private readonly options: { sweep?: boolean } = {},
  ) {
    this.collection = db.collection<ClaimDoc>(name);
  }

  /** True when this caller now holds `key`; false when someone else does. */
  async take(key: string): Promise<boolean> {
    this.sweepNowAndThen();
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.collection.insertOne({ _id: key, at: new Date() });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
      }
      const existing = await this.collection.findOne({ _id: key });
      if (existing && existing.at.getTime() > Date.now() - this.staleMs) return false;
      if (existing) await this.collection.deleteOne({ _id: key, at: existing.at });
    }
    return false;
  }

  async release(...keys: string[]) {
    if (keys.length === 1) await this.collection.deleteOne({ _id: keys[0]! });
    else if (keys.length > 1) await this.collection.deleteMany({ _id: { $in: keys } });
  }

  /**
   * Releases `keys` even when MongoDB is unreachable right now: a failed release is retried in
   * the background. Without this, a write that failed because the database went away left its
   * claim behind, and the record could not be updated until the claim went stale (30 s after
   * the database was back). Retries stop after a third of `staleMs`, well before anyone may take
   * the claim over (a claim is taken at most a socket timeout, 10 s, before its write fails), so
   * a late retry can never delete a claim somebody else took over. Never throws.
   */
  async releaseEventually(...keys: string[]) {
    await this.retryRelease(keys, Date.now() + this.staleMs / 3, 100);
  }

  private async retryRelease(keys: string[], giveUpAt: number, delay: number): Promise<void> {
    try {
      await this.release(...keys);
    } catch {
      if (Date.now() + delay > giveUpAt) return;
      // The first attempt is awaited by the caller; the retries go on in the background.
      void sleep(delay, undefined, { ref: false }).then(() => this.retryRelease(keys, giveUpAt, Math.min(delay * 2, 1_000)));
    }
  }

  /**
   * Removes stale claims, at most once every `staleMs`, in the background: claims a writer leaves
   * on purpose (the version it wrote, see backend/party/store.ts) and those of crashed writers. One
   * write now and then instead of one per update.
   */
  private sweepNowAndThen() {
    if (this.options.sweep === false) return;
    const now = Date.now();
    if (now - this.lastSweep < this.staleMs) return;
    this.lastSweep = now;
    this.collection.deleteMany({ at: { $lt: new Date(now - this.staleMs) } }).catch(() => {
      this.lastSweep = 0;
    });
  }

  /** Which of `keys` are held now (stale claims do not count). */
  async held(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const since = Date.now() - this.staleMs;
    // FerretDB 1.x runs a lone `_id` filter in SQLite (0.8 ms here) and anything else, `$in`
    // included, in Go over every document (5 ms on a small collection): a few keys go one by one.
    const docs =
      keys.length <= FEW_KEYS
        ? (await Promise.all(keys.map((key) => this.collection.findOne({ _id: key })))).filter((doc) => doc !== null)
        : await this.collection.find({ _id: { $in: keys } }).toArray();
    return new Set(docs.filter((doc) => doc.at.getTime() > since).map((doc) => doc._id));
  }
}
