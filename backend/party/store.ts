import { setTimeout as sleep } from 'node:timers/promises';
import { Claims } from '@pdash/backend-shared/claims';
import { collectionCount, findByIds } from '@pdash/backend-shared/mongo';
import { decodeCursor, encodeCursor, pageFilter } from '@pdash/backend-shared/pagination';
import { type OptionalPartyField, optionalPartyFields, type PartyValues, partyFieldNames } from '@pdash/contracts';
import type { Party } from '@pdash/proto/common/v1/party';
import { type Collection, type Db, ObjectId, type WithId } from 'mongodb';

/** A customer or supplier as MongoDB holds it. */
export type PartyDoc = PartyValues & {
  _id: ObjectId;
  createdAt: Date;
  updatedAt: Date;
  version: number;
};

export type UpdateOutcome = { status: 'updated'; record: Party } | { status: 'missing' } | { status: 'conflict' } | { status: 'busy' };

const MAX_UPDATE_ATTEMPTS = 10;

/** An update's fields: null removes an optional one. */
export type PartyChanges = { name?: string } & { [K in OptionalPartyField]?: string | null };

/** A claim older than this is one a crashed process left behind. */
export const CLAIM_STALE_MS = 10_000;
/**
 * The same for deletion marks, kept apart (their own collection, never swept) and longer: a delete
 * gives up `DELETE_WITHIN_MS` after marking, and its removal may then still take up to the driver's
 * socket timeout (10 s) to land; the mark must outlive both, or an order's check could pass it by.
 */
export const DELETION_MARK_STALE_MS = 30_000;
export const DELETE_WITHIN_MS = 5_000;

const versionKey = (id: string, version: number) => `${id}:v${version}`;
const deletionKey = (id: string) => `${id}:delete`;

export function toParty(doc: WithId<PartyDoc>): Party {
  return {
    id: doc._id.toHexString(),
    ...Object.fromEntries(partyFieldNames.map((field) => [field, doc[field]])),
    name: doc.name,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
    version: doc.version,
  };
}

function escapeRegex(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The MongoDB side of customers or suppliers: one collection, nothing else. */
export class PartyStore {
  readonly collection: Collection<PartyDoc>;
  private readonly claims: Claims;
  private readonly marks: Claims;

  constructor(db: Db, name: string) {
    this.collection = db.collection<PartyDoc>(name);
    this.claims = new Claims(db, `${name}_claims`, CLAIM_STALE_MS);
    this.marks = new Claims(db, `${name}_deletion_marks`, DELETION_MARK_STALE_MS, { sweep: false });
  }

  async ensureIndexes() {
    await this.collection.createIndex({ createdAt: -1, _id: -1 }, { name: 'newest_first' });
  }

  async create(fields: PartyValues): Promise<Party> {
    const now = new Date();
    const doc: PartyDoc = { _id: new ObjectId(), name: fields.name, createdAt: now, updatedAt: now, version: 1 };
    for (const field of optionalPartyFields) if (fields[field] !== undefined) doc[field] = fields[field];
    await this.collection.insertOne(doc);
    return toParty(doc);
  }

  async get(id: ObjectId): Promise<Party | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? toParty(doc) : undefined;
  }

  /**
   * The records among `ids`; with `forReference`, leaving out those a delete is working on.
   *
   * For a reference check the marks are read first and the records after, never side by side:
   * a delete removes the record before it drops its mark, so a check that finds no mark and then
   * finds the record knows the record was not being deleted when it looked for the mark (any delete
   * that marks it later counts the order's pending reference, docs/design.md). Read side by side,
   * the record could be read just before a delete removed it and the mark just after that delete
   * dropped it: the check passed a deleted record (seen by backend/orders/race.test.ts under load).
   */
  async batchGet(ids: ObjectId[], forReference: boolean): Promise<Party[]> {
    if (ids.length === 0) return [];
    const beingDeleted = forReference ? await this.marks.held(ids.map((id) => deletionKey(id.toHexString()))) : new Set<string>();
    const wanted = ids.filter((id) => !beingDeleted.has(deletionKey(id.toHexString())));
    return (await findByIds(this.collection, wanted)).map(toParty);
  }

  async list(options: { q?: string; limit: number; cursor?: string }) {
    const filter = options.q ? { name: { $regex: escapeRegex(options.q), $options: 'i' } } : {};
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const [docs, total] = await Promise.all([
      this.collection
        .find(after ? { $and: [filter, pageFilter(after)] } : filter)
        .sort({ createdAt: -1, _id: -1 })
        .limit(options.limit + 1)
        .toArray(),
      // Every document is a record (no pending state here), so without a search the total is the
      // collection's size, which its statistics give without scanning it.
      options.q ? this.collection.countDocuments(filter) : collectionCount(this.collection),
    ]);
    const page = docs.slice(0, options.limit);
    const last = page.at(-1);
    return {
      items: page.map(toParty),
      nextCursor: docs.length > options.limit && last ? encodeCursor(last) : undefined,
      total,
    };
  }

  /**
   * Applies the changes and bumps the version. The writer first claims the next version (see
   * claims.ts), checks that nobody moved the record meanwhile, then writes: two writers can never
   * both produce version n + 1. With `expectedVersion` only that version may be changed; without
   * it, a lost race is retried.
   */
  async update(id: ObjectId, changes: PartyChanges, expectedVersion?: number, signal?: AbortSignal): Promise<UpdateOutcome> {
    const hex = id.toHexString();
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const current = await this.collection.findOne({ _id: id });
      if (!current) return { status: 'missing' };
      if (expectedVersion !== undefined && current.version !== expectedVersion) return { status: 'conflict' };
      const claim = versionKey(hex, current.version + 1);
      if (await this.claims.take(claim)) {
        const outcome = await this.writeClaimed(current, changes, signal).catch(async (err) => {
          // Most likely MongoDB went away mid-write: the claim must not outlive the outage.
          await this.claims.releaseEventually(claim);
          throw err;
        });
        if (outcome) return outcome;
      } else if (!(await this.movesPast(id, current.version))) {
        // The claim stands but the record does not move: a writer that died mid-write (its claim
        // goes stale) rather than one that won. Not a version conflict; the caller may retry.
        return { status: 'busy' };
      }
      if (expectedVersion !== undefined) return { status: 'conflict' };
    }
    return { status: 'conflict' };
  }

  /** Whether the record leaves `version` within a moment, as it does when another writer holds the next one. */
  private async movesPast(id: ObjectId, version: number) {
    for (let poll = 0; poll < 10; poll++) {
      const doc = await this.collection.findOne({ _id: id });
      if (!doc || doc.version !== version) return true;
      await sleep(20);
    }
    return false;
  }

  private async writeClaimed(read: WithId<PartyDoc>, changes: PartyChanges, signal?: AbortSignal): Promise<UpdateOutcome | undefined> {
    const hex = read._id.toHexString();
    const current = await this.collection.findOne({ _id: read._id });
    if (!current) return { status: 'missing' };
    if (current.version !== read.version) {
      await this.claims.release(versionKey(hex, read.version + 1));
      return undefined;
    }
    const next: PartyDoc = { ...current, updatedAt: new Date(), version: current.version + 1 };
    const set: Partial<PartyDoc> = { updatedAt: next.updatedAt, version: next.version };
    const unset: Record<string, ''> = {};
    for (const field of partyFieldNames) {
      const value = changes[field];
      if (value === null) {
        unset[field] = '';
        delete next[field];
      } else if (value !== undefined) {
        set[field] = value;
        next[field] = value;
      }
    }
    // A caller that gave up (its deadline passed) has been told the update failed: it is not
    // started now, to land after that answer, surprise the caller's next read and make its retry
    // conflict. (One already under way still lands.)
    signal?.throwIfAborted();
    await this.collection.updateOne({ _id: read._id }, { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) });
    // The claim on this version stays (it stops a late writer that read the old one). The one
    // before is no longer looked at: Claims sweeps it once it is stale, which saves a write here.
    return { status: 'updated', record: toParty(next) };
  }

  /**
   * First step of a delete: while this mark stands, BatchGet with `forReference` leaves the record
   * out, so no new order can refer to it. False when the record is missing or already being deleted.
   */
  async markDeleting(id: ObjectId): Promise<{ status: 'marked'; at: number } | { status: 'missing' } | { status: 'busy' }> {
    if (!(await this.collection.findOne({ _id: id }))) return { status: 'missing' };
    // Taken before the claim's own timestamp: the mark is at least this old.
    const at = Date.now();
    return (await this.marks.take(deletionKey(id.toHexString()))) ? { status: 'marked', at } : { status: 'busy' };
  }

  async unmarkDeleting(id: ObjectId) {
    await this.marks.releaseEventually(deletionKey(id.toHexString()));
  }

  async remove(id: ObjectId) {
    await this.collection.deleteOne({ _id: id });
    await this.marks.release(deletionKey(id.toHexString()));
  }
}
