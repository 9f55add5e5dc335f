import { type ClaimDoc, Claims } from '@pdash/backend-shared/claims';
import { ServerError, Status } from '@pdash/backend-shared/errors';
import type { Db, ObjectId } from 'mongodb';

/*
 * Idempotent creates. A client whose create timed out cannot know whether the order was made; with
 * an idempotency key it can simply send the create again. The first create with a key claims it
 * (backend/shared/claims.ts: the unique `_id` insert, the one atomic write FerretDB 1.x has),
 * recording the order id it will make, before it inserts the order. A create that finds the key
 * taken returns that order instead of making one (see service.ts for every case).
 *
 * Keys are kept for KEY_TTL_MS: an older record is taken over by the next create with its key, and
 * swept now and then, so the collection holds about a day of keyed creates.
 */

export const KEY_TTL_MS = 24 * 60 * 60_000;

/** What a keyed create asked for: a repeat must ask for the same. */
export interface CreateFields {
  customerId: ObjectId;
  supplierId: ObjectId;
  totalCents: number;
}

interface RequestFields extends CreateFields {
  orderId: ObjectId;
  /** Set once the order was confirmed: an order missing after that was deleted, not never made. */
  made?: boolean;
}

/** A key's record: `_id` is the key, `at` when it was taken. */
export type OrderRequestDoc = ClaimDoc<RequestFields>;

export class OrderRequests {
  private readonly keys: Claims<RequestFields>;

  constructor(db: Db) {
    this.keys = new Claims<RequestFields>(db, 'order_requests', KEY_TTL_MS);
  }

  /**
   * Records that `orderId` is the order made for `key`. Returns undefined when it now is, or the
   * record of the create that took the key first.
   */
  async claim(key: string, orderId: ObjectId, fields: CreateFields): Promise<OrderRequestDoc | undefined> {
    const outcome = await this.keys.takeOrGet(key, { ...fields, orderId });
    if (outcome.taken) return undefined;
    if (!outcome.holder) throw new ServerError(Status.UNAVAILABLE, 'idempotencyKey: busy; try again');
    return outcome.holder;
  }

  /** Records that the key's order was confirmed (see `made`). */
  async markMade(key: string, orderId: ObjectId) {
    await this.keys.annotate(key, { orderId }, { made: true });
  }

  /** Frees the key of a create that made no order (its references did not check out), so a retry runs afresh. */
  async release(key: string, orderId: ObjectId) {
    await this.keys.release(key, { orderId });
  }

  /** `release` that outlives a short database outage (retried in the background). Never throws. */
  async releaseEventually(key: string, orderId: ObjectId) {
    await this.keys.releaseEventually(key, { orderId });
  }
}
