import { type Actor, type AuditDoc, AuditTrail, recordEntry } from '@pdash/backend-shared/audit';
import { ImportIds } from '@pdash/backend-shared/import-ids';
import { Imports } from '@pdash/backend-shared/imports';
import type { Logger } from '@pdash/backend-shared/logger';
import { collectionCount, containing, createSearchIndex, findByIds, presentIds } from '@pdash/backend-shared/mongo';
import { decodeCursor, pageFilter, toPage } from '@pdash/backend-shared/pagination';
import { type StorageTiming, type UpdateOutcome as StoreOutcome, VersionedRecords, WriteTooLate } from '@pdash/backend-shared/versioned';
import { diffChanges, fieldsAs, type OptionalPartyField, optionalPartyFields, type PartyValues, partyFieldNames } from '@pdash/contracts';
import type { Party } from '@pdash/proto/common/v1/party';
import { type Collection, type Db, ObjectId, type WithId } from 'mongodb';

/** A customer or supplier as MongoDB holds it. */
export type PartyDoc = PartyValues & {
  _id: ObjectId;
  createdAt: Date;
  updatedAt: Date;
  version: number;
};

export type UpdateOutcome = StoreOutcome<Party>;

/** An update's fields: null removes an optional one. */
export type PartyChanges = { name?: string } & { [K in OptionalPartyField]?: string | null };

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

/**
 * The MongoDB side of customers or suppliers: one collection, written through the storage
 * protocol (@pdash/backend-shared/versioned: versioned updates and deletion marks).
 */
export class PartyStore {
  readonly collection: Collection<PartyDoc>;
  readonly records: VersionedRecords;
  /** The history of these records (@pdash/backend-shared/audit): every write carries its entry. */
  readonly trail: AuditTrail;
  /** CSV imports into this collection: all or nothing. */
  readonly imports: Imports;
  /** The record ids imports keep from their files, claimed while they run. */
  readonly importIds: ImportIds;
  readonly entity: 'customer' | 'supplier';

  constructor(db: Db, name: 'customers' | 'suppliers', options: { timing?: StorageTiming; log?: Logger } = {}) {
    this.collection = db.collection<PartyDoc>(name);
    this.records = new VersionedRecords(db, name, options.timing);
    this.trail = new AuditTrail(db, this.collection, options.log);
    this.entity = name === 'customers' ? 'customer' : 'supplier';
    this.imports = new Imports(db, this.collection, { entity: this.entity, log: options.log });
    this.importIds = new ImportIds(db, name, this.imports);
  }

  async ensureIndexes() {
    await this.collection.createIndex({ createdAt: -1, _id: -1 }, { name: 'newest_first' });
    await createSearchIndex(this.collection, 'name');
  }

  async create(fields: PartyValues, actor: Actor | null): Promise<Party> {
    const now = new Date();
    const doc: PartyDoc = { _id: new ObjectId(), name: fields.name, createdAt: now, updatedAt: now, version: 1 };
    for (const field of optionalPartyFields) if (fields[field] !== undefined) doc[field] = fields[field];
    const entry = recordEntry(this.entity, doc._id, 'v1', now, actor, 'created', fieldsAs('to', doc, partyFieldNames));
    await this.trail.announce(entry, doc._id);
    await this.collection.insertOne({ ...doc, ...this.trail.pendingDoc(entry) });
    await this.trail.deliver(entry, doc._id);
    return toParty(doc);
  }

  async get(id: ObjectId): Promise<Party | undefined> {
    const doc = await this.collection.findOne({ _id: id });
    return doc ? toParty(doc) : undefined;
  }

  /**
   * An import's records as the collection will hold them (the import stages them first:
   * backend/shared/imports.ts). `ids` are the rows' ids; a row without its own `createdAt` gets
   * `now`, and the first such row the highest id, so that the records list (newest first) in the
   * file's order.
   */
  importedDocs(rows: (PartyValues & { createdAt?: Date })[], ids: ObjectId[], now: Date): PartyDoc[] {
    return rows.map((fields, i): PartyDoc => {
      const createdAt = fields.createdAt ?? now;
      const doc: PartyDoc = { _id: ids[i]!, name: fields.name, createdAt, updatedAt: createdAt, version: 1 };
      for (const field of optionalPartyFields) if (fields[field] !== undefined) doc[field] = fields[field];
      return doc;
    });
  }

  /** Of these ids (24 hex, lower-case), those a record of this kind has, or had before it was deleted. */
  async usedIds(ids: string[], beat?: () => Promise<void>): Promise<Set<string>> {
    const [live, deleted] = await Promise.all([
      presentIds(
        this.collection,
        ids.map((id) => ObjectId.createFromHexString(id)),
        beat,
      ),
      this.trail.deletedAmong(this.entity, ids, beat),
    ]);
    return new Set([...live, ...deleted]);
  }

  /** Every visible record matching `q`, newest first, read with a cursor (never all at once). */
  exportCursor(q?: string) {
    return this.collection.find(this.searchFilter(q)).sort({ createdAt: -1, _id: -1 }).batchSize(500);
  }

  /**
   * The records whose email is one of `emails` (lower-case), compared case-insensitively (emails
   * are kept as typed). One scan of the records with an email, their ids and emails only: FerretDB
   * would scan for any filter, and one scan serves the whole list.
   */
  async findByEmails(emails: string[]): Promise<Party[]> {
    if (emails.length === 0) return [];
    const wanted = new Set(emails);
    const docs = await this.collection
      .find({ email: { $exists: true } }, { projection: { _id: 1, email: 1, name: 1, createdAt: 1, updatedAt: 1, version: 1 } })
      .toArray();
    return docs.filter((doc) => doc.email !== undefined && wanted.has(doc.email.toLowerCase())).map(toParty);
  }

  /** The record by `_id` alone (FerretDB's one indexed lookup). */
  private visible(id: ObjectId) {
    return this.collection.findOne({ _id: id });
  }

  private searchFilter(q?: string) {
    return q ? { name: containing(q) } : {};
  }

  /**
   * The records among `ids`; with `forReference`, leaving out those a delete is working on. The
   * marks are read first and the records after, never side by side (VersionedRecords.beingDeleted;
   * backend/orders/race.test.ts once caught the side-by-side read passing a deleted record).
   */
  async batchGet(ids: ObjectId[], forReference: boolean): Promise<Party[]> {
    if (ids.length === 0) return [];
    const beingDeleted = forReference ? await this.records.beingDeleted(ids.map((id) => id.toHexString())) : new Set<string>();
    const wanted = ids.filter((id) => !beingDeleted.has(id.toHexString()));
    return (await findByIds(this.collection, wanted)).map(toParty);
  }

  async list(options: { q?: string; limit: number; cursor?: string }) {
    const filter = this.searchFilter(options.q);
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const [docs, total] = await Promise.all([
      this.collection
        .find(after ? { $and: [filter, pageFilter(after)] } : filter)
        .sort({ createdAt: -1, _id: -1 })
        .limit(options.limit + 1)
        .toArray(),
      // Every document is a record (imports stage theirs elsewhere), so without a search the total
      // is the collection's size, which collectionCount gets without reading the records.
      options.q ? this.collection.countDocuments(filter) : collectionCount(this.collection),
    ]);
    return { ...toPage(docs, options.limit, toParty), total };
  }

  /**
   * Applies the changes and bumps the version, through the storage protocol's versioned update:
   * two writers can never both produce version n + 1. With `expectedVersion` only that version may
   * be changed; without it, a lost race is retried.
   */
  async update(
    id: ObjectId,
    changes: PartyChanges,
    options: { expectedVersion?: number; signal?: AbortSignal; actor: Actor | null },
  ): Promise<UpdateOutcome> {
    let entry: AuditDoc | undefined;
    const outcome = await this.records.update(id.toHexString(), {
      expectedVersion: options.expectedVersion,
      read: () => this.visible(id),
      write: async (current, deadline) => {
        const written = await this.write(current, changes, { ...options, deadline });
        entry = written.entry;
        return written.next;
      },
    });
    if (outcome.status !== 'updated') return outcome;
    if (entry) await this.trail.deliver(entry, id);
    return { status: 'updated', record: toParty(outcome.record) };
  }

  private async write(
    current: WithId<PartyDoc>,
    changes: PartyChanges,
    options: { signal?: AbortSignal; actor: Actor | null; deadline: { inTime(): boolean } },
  ) {
    const { signal } = options;
    const next: WithId<PartyDoc> = { ...current, updatedAt: new Date(), version: current.version + 1 };
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
    const changed = diffChanges(current, next, partyFieldNames);
    const entry = recordEntry(this.entity, current._id, `v${next.version}`, next.updatedAt, options.actor, 'updated', changed);
    await this.trail.announce(entry, current._id);
    // The announcement took a round trip: the write goes only while the caller waits and the claim holds.
    signal?.throwIfAborted();
    if (!options.deadline.inTime()) throw new WriteTooLate();
    await this.collection.updateOne(
      { _id: current._id },
      { $set: { ...set, ...this.trail.pending(entry) }, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) },
    );
    return { next, entry };
  }

  /**
   * First step of a delete (the storage protocol's deletion mark): while it stands, BatchGet with
   * `forReference` leaves the record out, so no new order can refer to it.
   */
  async markDeleting(id: ObjectId): Promise<{ status: 'marked'; at: number } | { status: 'missing' } | { status: 'busy' }> {
    if (!(await this.visible(id))) return { status: 'missing' };
    return this.records.markDeleting(id.toHexString());
  }

  /** A delete that gives up before sending its removal: the record may be referred to again. */
  async unmarkDeleting(id: ObjectId, markedAt: number) {
    await this.records.unmarkDeleting(id.toHexString(), markedAt);
  }

  /**
   * The record goes first, its mark (taken at `markedAt`) after: reference checks rely on that
   * order. The removal holds the record's next version claim (no update lands meanwhile), delivers
   * the history entries the record still holds, and announces its own. `inTime` says whether
   * the removal may still be sent (the delete's own deadline); false: nothing removed, 'late'.
   */
  async remove(id: ObjectId, markedAt: number, actor: Actor | null, sent: () => void): Promise<'removed' | 'missing' | 'late' | 'busy'> {
    let entry: AuditDoc | undefined;
    const late = new Error('late');
    const outcome = await this.records
      .update(id.toHexString(), {
        read: () => this.collection.findOne({ _id: id }),
        write: async (current, deadline) => {
          await this.trail.flush(current);
          entry = recordEntry(this.entity, id, 'deleted', new Date(), actor, 'deleted', fieldsAs('from', current, partyFieldNames));
          await this.trail.announce(entry, id, 'delete');
          // Too late to send the removal: nothing is removed (the claim is freed, the error caught below).
          if (!deadline.inTime() || !this.records.mayStillRemove(markedAt)) throw late;
          sent();
          await this.collection.deleteOne({ _id: id });
          return current;
        },
      })
      .catch((err: unknown) => {
        if (err === late) return 'late' as const;
        throw err;
      });
    if (outcome === 'late') return 'late';
    if (outcome.status === 'missing') return 'missing';
    if (outcome.status !== 'updated') return 'busy';
    await this.records.removed(id.toHexString(), markedAt);
    if (entry) await this.trail.deliver(entry, id, 'delete');
    return 'removed';
  }
}
