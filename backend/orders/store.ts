import { type Actor, type AuditDoc, AuditTrail, recordEntry } from '@pdash/backend-shared/audit';
import { Imports } from '@pdash/backend-shared/imports';
import type { Logger } from '@pdash/backend-shared/logger';
import { collectionCount } from '@pdash/backend-shared/mongo';
import { type CursorPosition, decodeCursor, pageFilter, toPage } from '@pdash/backend-shared/pagination';
import { WriteTooLate } from '@pdash/backend-shared/versioned';
import { diffChanges, fieldsAs } from '@pdash/contracts';
import type { DayStats, Order } from '@pdash/proto/orders/v1/orders';
import { type Collection, type Db, type Document, type Filter, ObjectId } from 'mongodb';

/*
 * No order may refer to a customer or supplier that does not exist, yet the check runs in another
 * service and FerretDB has no transactions. Both sides therefore write before they read:
 *
 * - customers/suppliers Delete marks the record `deletingAt` (BatchGet with forReference then
 *   leaves it out), then asks Count how many orders refer to it: none → delete; confirmed ones →
 *   refuse; only pending ones → wait for them to settle and count again.
 * - orders Create inserts the order with `pendingSince` (invisible to every read, counted by
 *   Count as pending), then checks both references with forReference BatchGets, then confirms it
 *   (unsets `pendingSince`) or deletes it.
 * - orders Update that changes a reference first records the new ones in `pendingRefs` (counted
 *   as pending), checks them, then applies them and clears `pendingRefs` in one update, or only
 *   clears it; the order stays as it was when the check fails.
 *
 * Of a racing delete and create, at least one sees the other's write: the delete sees the
 * pending order and waits for it (which rolls back, having seen the mark, or is confirmed, and the
 * delete refuses), or the create sees the mark and rolls back.
 *
 * A process that dies between the steps leaves a pending order or `pendingRefs` behind. Past
 * PENDING_TTL_MS, Count removes them so they cannot block a delete forever: it deletes such an
 * order, so a late confirm matches nothing and fails instead of slipping past a delete.
 *
 * On FerretDB 1.x (SQLite) every query scans the collection, and a write filtered by `_id` alone
 * scans about ten times faster than one with any other condition. So by-id writes use `_id` alone
 * where that is safe: an order read as visible never becomes pending again, so after that read a
 * write by `_id` reaches a visible order or none. Only writes that must be atomic with a
 * condition (expected version, reservation token) carry one.
 */

/** How long a create or update may take to check its references before Count treats it as abandoned. */
export const PENDING_TTL_MS = 30_000;

type PartyField = 'customerId' | 'supplierId';

/** New references an update is checking before it applies them. */
interface PendingRefs {
  /** Which update wrote them: only that one may apply or clear them. */
  token: ObjectId;
  since: Date;
  customerId?: ObjectId;
  supplierId?: ObjectId;
}

/** An order as MongoDB holds it. */
export interface OrderDoc {
  _id: ObjectId;
  customerId: ObjectId;
  supplierId: ObjectId;
  totalCents: number;
  createdAt: Date;
  updatedAt: Date;
  /** UTC day of createdAt (YYYY-MM-DD), stored because FerretDB 1.x cannot group by a computed date. */
  day: string;
  version: number;
  /** Set while the create that inserted the order checks its references; until then no read sees it. */
  pendingSince?: Date;
  pendingRefs?: PendingRefs;
}

export interface OrderChanges {
  customerId?: ObjectId;
  supplierId?: ObjectId;
  totalCents?: number;
}

interface Sum<K> {
  _id: K;
  sum: number;
}

const VISIBLE = { pendingSince: { $exists: false } } satisfies Filter<OrderDoc>;
/** Orders being created (pending) that a list of all orders reads past: see newestVisible. */
const PENDING_SLACK = 16;
const NEWEST_FIRST = { createdAt: -1, _id: -1 } as const;

export const utcDay = (date: Date) => date.toISOString().slice(0, 10);

export function toOrder(doc: OrderDoc): Order {
  return {
    id: doc._id.toHexString(),
    customerId: doc.customerId.toHexString(),
    supplierId: doc.supplierId.toHexString(),
    totalCents: doc.totalCents,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    version: doc.version,
  };
}

/** The fields an order's history entries name. */
const HISTORY_FIELDS = ['customerId', 'supplierId', 'totalCents'] as const;
const historyValues = (doc: Pick<OrderDoc, (typeof HISTORY_FIELDS)[number]>) => ({
  customerId: doc.customerId.toHexString(),
  supplierId: doc.supplierId.toHexString(),
  totalCents: doc.totalCents,
});

/** The MongoDB side of orders: the `orders` collection (and its history, @pdash/backend-shared/audit). */
export class OrdersStore {
  readonly collection: Collection<OrderDoc>;
  readonly trail: AuditTrail;
  /** CSV imports: all or nothing (backend/shared/imports.ts); Count counts their staged orders as pending. */
  readonly imports: Imports;

  constructor(db: Db, log?: Logger, onImported?: (created: number) => Promise<void>) {
    this.collection = db.collection<OrderDoc>('orders');
    this.trail = new AuditTrail(db, this.collection, log);
    this.imports = new Imports(db, this.collection, { entity: 'order', log, onCommitted: onImported });
  }

  async ensureIndexes() {
    await Promise.all([
      this.collection.createIndex(NEWEST_FIRST, { name: 'newest_first' }),
      this.collection.createIndex({ customerId: 1, ...NEWEST_FIRST }, { name: 'by_customer_newest_first' }),
      this.collection.createIndex({ supplierId: 1, ...NEWEST_FIRST }, { name: 'by_supplier_newest_first' }),
      // Counts of visible orders (VISIBLE: `pendingSince` missing) go through it, not over every order.
      this.collection.createIndex({ pendingSince: 1 }, { name: 'by_pending' }),
    ]);
  }

  /** First step of a create: the order exists for Count, but for no one else yet. */
  async insertPending(_id: ObjectId, fields: { customerId: ObjectId; supplierId: ObjectId; totalCents: number }): Promise<OrderDoc> {
    const now = new Date();
    const doc: OrderDoc = {
      _id,
      ...fields,
      createdAt: now,
      updatedAt: now,
      day: utcDay(now),
      version: 1,
      pendingSince: now,
    };
    await this.collection.insertOne(doc);
    return doc;
  }

  /**
   * Makes a pending order visible, its history entry with it; false when Count removed it as
   * abandoned in the meantime.
   */
  async confirm(doc: OrderDoc, actor: Actor | null): Promise<boolean> {
    const entry = recordEntry('order', doc._id, 'v1', doc.createdAt, actor, 'created', fieldsAs('to', historyValues(doc), HISTORY_FIELDS));
    await this.trail.announce(entry, doc._id);
    const confirmed =
      (await this.collection.updateOne({ _id: doc._id }, { $unset: { pendingSince: '' }, $set: this.trail.pending(entry) })).matchedCount >
      0;
    if (confirmed) await this.trail.deliver(entry, doc._id);
    return confirmed;
  }

  /** An import's orders as the collection will hold them (the import stages them first). */
  importedDocs(rows: { _id: ObjectId; customerId: ObjectId; supplierId: ObjectId; totalCents: number; createdAt: Date }[]): OrderDoc[] {
    return rows.map((row) => ({ ...row, updatedAt: row.createdAt, day: utcDay(row.createdAt), version: 1 }));
  }

  /** Every visible order (of one customer or supplier), newest first, read with a cursor. */
  exportCursor(party?: { field: PartyField; id: ObjectId }) {
    const filter: Filter<OrderDoc> = party ? { [party.field]: party.id, ...VISIBLE } : VISIBLE;
    return this.collection.find(filter).sort(NEWEST_FIRST).batchSize(500);
  }

  /** Removes a pending order whose references did not check out (only its create knows its id). */
  async discardPending(id: ObjectId) {
    await this.collection.deleteOne({ _id: id });
  }

  /** An order, pending or not (for a repeated create: see requests.ts). */
  async getAny(id: ObjectId): Promise<OrderDoc | null> {
    return this.collection.findOne({ _id: id });
  }

  /** Removes an order left pending past PENDING_TTL_MS by a create that died; false when there is none. */
  async dropAbandoned(id: ObjectId): Promise<boolean> {
    const abandonedBefore = new Date(Date.now() - PENDING_TTL_MS);
    return (await this.collection.deleteOne({ _id: id, pendingSince: { $lt: abandonedBefore } })).deletedCount > 0;
  }

  /** A visible order, or null: one still being created does not exist yet for readers. */
  async get(id: ObjectId): Promise<OrderDoc | null> {
    const doc = await this.collection.findOne({ _id: id });
    return doc && doc.pendingSince === undefined ? doc : null;
  }

  /**
   * Orders in the collection, the figure every order event carries. It includes orders being
   * created for the few milliseconds of their check: counting only confirmed ones would scan
   * the collection on every write, where collection stats are one cheap read.
   */
  async countOrders(): Promise<number> {
    return collectionCount(this.collection);
  }

  async list(options: { party?: { field: PartyField; id: ObjectId }; limit: number; cursor?: string }) {
    const filter: Filter<OrderDoc> = options.party ? { [options.party.field]: options.party.id, ...VISIBLE } : VISIBLE;
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const [docs, total] = await Promise.all([
      options.party ? this.page(filter, options.limit + 1, after) : this.newestVisible(options.limit + 1, after),
      this.collection.countDocuments(filter),
    ]);
    return { ...toPage(docs, options.limit, toOrder), total };
  }

  private page(filter: Filter<OrderDoc>, count: number, after?: CursorPosition) {
    return this.collection
      .find(after ? { $and: [filter, pageFilter(after)] } : filter)
      .sort(NEWEST_FIRST)
      .limit(count)
      .toArray();
  }

  /**
   * The newest `count` visible orders (after `after`): read newest first with the few being
   * created, which are dropped here. Asked for as VISIBLE, the database would rather find every
   * visible order through `by_pending` (which makes counting them cheap) and sort them all: 800 ms
   * at 100,000 orders on FerretDB, against 5 ms this way (docs/benchmarks.md). Should more orders be
   * pending at once than the slack covers, the plain query answers.
   */
  private async newestVisible(count: number, after?: CursorPosition) {
    const read = count + PENDING_SLACK;
    const docs = await this.page({}, read, after);
    const visible = docs.filter((doc) => doc.pendingSince === undefined);
    if (visible.length >= count || docs.length < read) return visible.slice(0, count);
    return this.page(VISIBLE, count, after);
  }

  /**
   * First step of an update that changes references of a visible order: records them as pending,
   * and returns the order as it was then with the token that applies or clears them (or
   * undefined when the order is gone).
   */
  async reserveRefs(id: ObjectId, refs: Pick<OrderChanges, PartyField>) {
    const pendingRefs: PendingRefs = { token: new ObjectId(), since: new Date(), ...refs };
    // A newer reservation replaces an older one, whose update then fails to apply (its token is gone).
    const before = await this.collection.findOneAndUpdate({ _id: id }, { $set: { pendingRefs } }, { returnDocument: 'before' });
    return before ? { before, token: pendingRefs.token } : undefined;
  }

  async releaseRefs(id: ObjectId, token: ObjectId) {
    await this.collection.updateOne({ _id: id, 'pendingRefs.token': token }, { $unset: { pendingRefs: '' } });
  }

  /**
   * Applies the changes to a visible order and bumps its version in one atomic update; with
   * `expectedVersion`, only if that is still the current version; with `token`, only if that
   * reservation still stands (and clearing it). Returns the new order, or null when nothing matched.
   * FerretDB 1.x does not make the filter atomic with the write: the service claims the version
   * first (the storage protocol, backend/shared/versioned.ts), so only one update at a time gets here per order.
   */
  async update(
    id: ObjectId,
    changes: OrderChanges,
    options: { before: OrderDoc; token?: ObjectId; actor: Actor | null; deadline: { inTime(): boolean } },
  ) {
    const { before } = options;
    const filter: Filter<OrderDoc> = { _id: id, version: before.version };
    if (options.token) filter['pendingRefs.token'] = options.token;
    const updatedAt = new Date();
    const changed = diffChanges(historyValues(before), historyValues({ ...before, ...changes }), HISTORY_FIELDS);
    const entry = recordEntry('order', id, `v${before.version + 1}`, updatedAt, options.actor, 'updated', changed);
    await this.trail.announce(entry, id);
    // The announcement took a round trip: the write goes only while the version claim holds.
    if (!options.deadline.inTime()) throw new WriteTooLate();
    const doc = await this.collection.findOneAndUpdate(
      filter,
      {
        $set: { ...changes, updatedAt, ...this.trail.pending(entry) },
        $inc: { version: 1 },
        ...(options.token ? { $unset: { pendingRefs: '' } } : {}),
      },
      { returnDocument: 'after' },
    );
    if (doc) await this.trail.deliver(entry, id);
    return doc;
  }

  /**
   * Deletes a visible order (read as `before`, under its next version claim, so no update lands
   * meanwhile): the history entries it still holds are delivered first. Returns the order as it
   * was, or null when it is gone.
   */
  async remove(before: OrderDoc, actor: Actor | null, deadline: { inTime(): boolean }) {
    await this.trail.flush(before);
    const entry: AuditDoc = recordEntry(
      'order',
      before._id,
      'deleted',
      new Date(),
      actor,
      'deleted',
      fieldsAs('from', historyValues(before), HISTORY_FIELDS),
    );
    await this.trail.announce(entry, before._id, 'delete');
    if (!deadline.inTime()) throw new WriteTooLate();
    const doc = await this.collection.findOneAndDelete({ _id: before._id });
    if (doc) await this.trail.deliver(entry, before._id, 'delete');
    return doc;
  }

  /**
   * Orders that refer to a customer or supplier, each counted once, and how many of those are
   * pending (a create or an update still checking that reference). Abandoned pending ones are
   * removed first, so a crash cannot block a delete for longer than PENDING_TTL_MS.
   */
  async countReferences(field: PartyField, id: ObjectId) {
    // Orders an import has staged are about to exist: pending references (written before the
    // import checks its parties, as a create's are).
    const staged = await this.imports.staged(field, id);
    let counts = await this.referenceCounts(field, id);
    if (counts.pending > 0 && (await this.dropAbandonedReferences(field, id))) counts = await this.referenceCounts(field, id);
    return { count: counts.count + staged, pending: counts.pending + staged };
  }

  private async referenceCounts(field: PartyField, id: ObjectId) {
    // Both figures come from one read: taken by two queries, an order settling between them
    // could be counted without being counted as pending, and a delete refused for nothing.
    const groups = await this.collection
      .aggregate<{ _id: { creating?: Date; current: ObjectId }; count: number }>([
        { $match: { $or: [{ [field]: id }, { [`pendingRefs.${field}`]: id }] } },
        { $group: { _id: { creating: '$pendingSince', current: `$${field}` }, count: { $sum: 1 } } },
      ])
      .toArray();
    let count = 0;
    let pending = 0;
    for (const group of groups) {
      count += group.count;
      // Pending: a create still checking its references, or an update checking a move to this record.
      if (group._id.creating || !group._id.current.equals(id)) pending += group.count;
    }
    return { count, pending };
  }

  private async dropAbandonedReferences(field: PartyField, id: ObjectId): Promise<boolean> {
    const abandonedBefore = new Date(Date.now() - PENDING_TTL_MS);
    const [creates, updates] = await Promise.all([
      this.collection.deleteMany({ [field]: id, pendingSince: { $lt: abandonedBefore } }),
      this.collection.updateMany(
        { [`pendingRefs.${field}`]: id, 'pendingRefs.since': { $lt: abandonedBefore } },
        { $unset: { pendingRefs: '' } },
      ),
    ]);
    return creates.deletedCount + updates.modifiedCount > 0;
  }

  /**
   * Per UTC day and per supplier (the `topSuppliers` with the most revenue) totals of the visible
   * orders created since `since`. FerretDB 1.24 computes only the first accumulator of a $group
   * (any other comes out 0), so every figure is an aggregation of its own.
   */
  async totalsSince(since: Date, topSuppliers: number) {
    const match: Filter<OrderDoc> = { createdAt: { $gte: since }, ...VISIBLE };
    const sumBy = <K>(key: string, value: 1 | '$totalCents', filter = match, ...stages: Document[]) =>
      this.collection.aggregate<Sum<K>>([{ $match: filter }, { $group: { _id: key, sum: { $sum: value } } }, ...stages]).toArray();
    const [dayCounts, dayRevenue, supplierRevenue] = await Promise.all([
      sumBy<string>('$day', 1),
      sumBy<string>('$day', '$totalCents'),
      sumBy<ObjectId>('$supplierId', '$totalCents', match, { $sort: { sum: -1, _id: 1 } }, { $limit: topSuppliers }),
    ]);
    const supplierCounts =
      supplierRevenue.length === 0
        ? []
        : await sumBy<ObjectId>('$supplierId', 1, { ...match, supplierId: { $in: supplierRevenue.map((s) => s._id) } });

    const revenueOfDay = new Map(dayRevenue.map((d) => [d._id, d.sum]));
    const countOfSupplier = new Map(supplierCounts.map((s) => [s._id.toHexString(), s.sum]));
    return {
      byDay: dayCounts.map((d): DayStats => ({ day: d._id, count: d.sum, revenueCents: revenueOfDay.get(d._id) ?? 0 })),
      bySupplier: supplierRevenue.map((s) => {
        const supplierId = s._id.toHexString();
        return { supplierId, count: countOfSupplier.get(supplierId) ?? 0, revenueCents: s.sum };
      }),
    };
  }
}
