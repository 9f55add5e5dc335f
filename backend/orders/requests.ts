import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Db, ObjectId } from 'mongodb';
import { ServerError, Status } from '../shared/errors.js';

/*
 * Idempotent creates. A client whose create timed out cannot know whether the order was made; with
 * an idempotency key it can simply send the create again. The first create with a key records
 * `key → order id` with an insert that the unique `_id` makes atomic (the one atomic write FerretDB
 * 1.x has, see backend/shared/claims.ts), before it inserts the order. A create that finds the key
 * taken returns that order instead of making one (see service.ts for every case).
 *
 * Keys are kept for KEY_TTL_MS; an older record is replaced by the next create with its key, and
 * swept now and then, so the collection holds about a day of keyed creates.
 */

export const KEY_TTL_MS = 24 * 60 * 60_000;
const SWEEP_EVERY_MS = 10 * 60_000;
const DUPLICATE_KEY = 11000;

/** What a keyed create asked for: a repeat must ask for the same. */
export interface CreateFields {
  customerId: ObjectId;
  supplierId: ObjectId;
  totalCents: number;
}

export interface OrderRequestDoc extends CreateFields {
  /** The idempotency key. */
  _id: string;
  orderId: ObjectId;
  at: Date;
  /** Set once the order was confirmed: an order missing after that was deleted, not never made. */
  made?: boolean;
}

export class OrderRequests {
  private readonly collection: Collection<OrderRequestDoc>;
  private lastSweep = 0;

  constructor(db: Db) {
    this.collection = db.collection<OrderRequestDoc>('order_requests');
  }

  /**
   * Records that `orderId` is the order made for `key`. Returns undefined when it now is, or the
   * record of the create that took the key first.
   */
  async claim(key: string, orderId: ObjectId, fields: CreateFields): Promise<OrderRequestDoc | undefined> {
    this.sweepNowAndThen();
    for (let attempt = 0; attempt < 2; attempt++) {
      const at = new Date();
      try {
        await this.collection.insertOne({ _id: key, orderId, ...fields, at });
        return undefined;
      } catch (err) {
        if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
      }
      const existing = await this.collection.findOne({ _id: key });
      if (existing && existing.at.getTime() > Date.now() - KEY_TTL_MS) return existing;
      // Expired (or released in between): the key is free again. The `at` filter keeps a record
      // that another create just wrote.
      if (existing) await this.collection.deleteOne({ _id: key, at: existing.at });
    }
    // Lost the race for an expired key twice: whoever won holds it now.
    const winner = await this.collection.findOne({ _id: key });
    if (!winner) throw new ServerError(Status.UNAVAILABLE, 'idempotencyKey: busy; try again');
    return winner;
  }

  /** Records that the key's order was confirmed (see `made`). */
  async markMade(key: string, orderId: ObjectId) {
    await this.collection.updateOne({ _id: key, orderId }, { $set: { made: true } });
  }

  /** Frees the key of a create that made no order (its references did not check out), so a retry runs afresh. */
  async release(key: string, orderId: ObjectId) {
    await this.collection.deleteOne({ _id: key, orderId });
  }

  /** `release` that outlives a short database outage: a failed one is retried in the background. Never throws. */
  async releaseEventually(key: string, orderId: ObjectId, delay = 100): Promise<void> {
    try {
      await this.release(key, orderId);
    } catch {
      if (delay > 3_200) return;
      void sleep(delay, undefined, { ref: false }).then(() => this.releaseEventually(key, orderId, delay * 2));
    }
  }

  /** Removes expired records, at most once every SWEEP_EVERY_MS, in the background. */
  private sweepNowAndThen() {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    this.collection.deleteMany({ at: { $lt: new Date(now - KEY_TTL_MS) } }).catch(() => {
      this.lastSweep = 0;
    });
  }
}
