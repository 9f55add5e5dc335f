import { createHash } from 'node:crypto';
import type { AuditAction, AuditChanges, AuditEntity } from '@pdash/contracts';
import { type Collection, type Db, type Document, type Filter, MongoServerError, type ObjectId } from 'mongodb';
import type { Actor } from './actor.js';
import { repeatInBackground } from './background.js';
import type { Logger } from './logger.js';
import { presentIds } from './mongo.js';
import { STORAGE_TIMING } from './versioned.js';

/*
 * The history (API.md "History (audit)"): one entry per acknowledged change, none lost when a
 * process dies right after its write, none for a write that failed. FerretDB has no transactions,
 * so an entry is written *with* its change, inside the record's own document (one document's
 * write is atomic), and copied to the `audit` collection after:
 *
 *  1. announce: the entry goes to the owner's outbox (`<collection>_audit_outbox`), a small
 *     collection of entries whose write may be under way;
 *  2. the write itself also sets `auditPending.<entry id>` on the record: the change and its entry
 *     land together or not at all;
 *  3. deliver: the entry is inserted into `audit` (its id is derived from the change, so a second
 *     insert is a no-op), then unset from the record, then dropped from the outbox.
 *
 * A process that dies between the steps leaves the outbox entry; `recover` (at start and every
 * few seconds, in every replica) settles it once its write can no longer land: delivered when the
 * record holds it, dropped when it does not (the write failed, or the entry was delivered). A
 * delete has no document left to hold its entry: its outbox entry is delivered when the record is
 * gone and dropped while it stands. Before removing a record, a delete delivers what the record
 * still holds (`flush`); it holds the record's next version claim meanwhile, so no update slips in.
 *
 * docs/design.md, "History", is the prose account; the chaos run's audit ledger checks it.
 */

export { type Actor, actorOf } from './actor.js';

export const AUDIT_COLLECTION = 'audit';
/** The field of a record that holds its entries until they are delivered. */
export const PENDING_FIELD = 'auditPending';

/** An entry as the `audit` collection holds it. */
export interface AuditDoc {
  /** 24 hex, derived from what changed (entryId): a change has one id however often it is delivered. */
  _id: string;
  at: Date;
  actor: Actor | null;
  action: AuditAction;
  entity: AuditEntity;
  entityId: string;
  changes: AuditChanges;
}

/** `step` names the change among the record's: `v<version>` for the write that made it, `deleted`, `signed_up`… */
export function entryId(entity: AuditEntity, entityId: string, step: string): string {
  return createHash('sha256').update(`${entity}:${entityId}:${step}`).digest('hex').slice(0, 24);
}

/** An outbox entry: a change that may be under way. */
interface OutboxDoc {
  _id: string;
  /** When it was announced: its write may land until `staleAfterMs` later. */
  at: Date;
  kind: 'write' | 'delete';
  recordId: ObjectId | string;
  entry: AuditDoc;
}

/**
 * How long after its announcement an entry's write may still land: the storage protocol's longest
 * (a delete's removal, sent within deleteWithinMs of its mark and landing within the driver's
 * limits). Every write is announced right before it is sent.
 */
const SETTLED_AFTER_MS = STORAGE_TIMING.deletionMarkStaleMs;
const RECOVER_EVERY_MS = 5_000;
const DUPLICATE_KEY = 11000;

/** The history of one collection's records (`records`), written by its owning service. */
export class AuditTrail {
  readonly log: Collection<AuditDoc>;
  private readonly outbox: Collection<OutboxDoc>;
  private readonly records: Collection<Document>;

  constructor(
    db: Db,
    // biome-ignore lint/suspicious/noExplicitAny: any record type: only `_id` and the pending field are used
    records: Collection<any>,
    private readonly logger?: Logger,
    private readonly settledAfterMs: number = SETTLED_AFTER_MS,
  ) {
    // Only `_id` and the pending field are touched here, whatever else the records hold.
    this.records = records as unknown as Collection<Document>;
    this.log = db.collection<AuditDoc>(AUDIT_COLLECTION);
    this.outbox = db.collection<OutboxDoc>(`${this.records.collectionName}_audit_outbox`);
  }

  /** What the `audit` collection is read by (newest first; auth's ListAudit). */
  static async ensureIndexes(db: Db) {
    await db.collection(AUDIT_COLLECTION).createIndex({ at: -1, _id: -1 }, { name: 'newest_first' });
  }

  /**
   * Of these record ids, those whose record was deleted (its `deleted` entry is in the log, or in
   * the outbox on its way): an id that must not be given to a new record, or the new record's
   * history would share entry ids (entryId) with the old one's.
   */
  async deletedAmong(entity: AuditEntity, ids: string[], beat?: () => Promise<void>): Promise<Set<string>> {
    const byEntry = new Map(ids.map((id) => [entryId(entity, id, 'deleted'), id]));
    const [logged, announced] = await Promise.all([
      presentIds(this.log, [...byEntry.keys()], beat),
      presentIds(this.outbox, [...byEntry.keys()], beat),
    ]);
    return new Set([...logged, ...announced].map((entry) => byEntry.get(entry)!));
  }

  /** Step 1, right before the write that carries `entry` (a delete: right before the removal). */
  async announce(entry: AuditDoc, recordId: ObjectId | string, kind: OutboxDoc['kind'] = 'write') {
    await this.outbox.replaceOne({ _id: entry._id }, { at: new Date(), kind, recordId, entry }, { upsert: true });
  }

  /** Step 2: what the write sets on the record (an insert spreads it into the new document). */
  pending(entry: AuditDoc): Record<string, AuditDoc> {
    return { [`${PENDING_FIELD}.${pendingKey(entry._id)}`]: entry };
  }

  /** For an insert: the new document's pending entries. */
  pendingDoc(entry: AuditDoc): { [PENDING_FIELD]: Record<string, AuditDoc> } {
    return { [PENDING_FIELD]: { [pendingKey(entry._id)]: entry } };
  }

  /**
   * Step 3, after the write was acknowledged. A failure here costs nothing but time: the entry
   * waits in the record and the outbox for `recover`.
   */
  async deliver(entry: AuditDoc, recordId: ObjectId | string, kind: OutboxDoc['kind'] = 'write') {
    try {
      await this.append(entry);
      if (kind === 'write')
        await this.records.updateOne({ _id: recordId } as Filter<Document>, {
          $unset: { [`${PENDING_FIELD}.${pendingKey(entry._id)}`]: '' },
        });
      await this.outbox.deleteOne({ _id: entry._id });
    } catch (err) {
      this.logger?.warn({ err, entryId: entry._id }, 'history entry not delivered yet; recovery will');
    }
  }

  /** Before a record is removed: every entry it still holds goes to the log (throws if it cannot). */
  async flush(record: Document) {
    const held = (record[PENDING_FIELD] ?? {}) as Record<string, AuditDoc>;
    for (const entry of Object.values(held)) await this.append(entry);
  }

  /** Settles outbox entries whose write can no longer land; how many it settled. */
  async recover(): Promise<number> {
    const settled = await this.outbox.find({ at: { $lt: new Date(Date.now() - this.settledAfterMs) } }).toArray();
    for (const { _id, at, kind, recordId, entry } of settled) {
      const record = await this.records.findOne({ _id: recordId } as Filter<Document>);
      const held = (record?.[PENDING_FIELD] as Record<string, AuditDoc> | undefined)?.[pendingKey(_id)];
      if (kind === 'write' && held) {
        await this.append(held);
        await this.records.updateOne({ _id: recordId } as Filter<Document>, { $unset: { [`${PENDING_FIELD}.${pendingKey(_id)}`]: '' } });
      } else if (kind === 'delete' && !record) {
        await this.append(entry);
      }
      // Only what was read: a writer may have announced the same change again meanwhile.
      await this.outbox.deleteOne({ _id, at });
    }
    if (settled.length > 0)
      this.logger?.info({ settled: settled.length, collection: this.records.collectionName }, 'history outbox settled');
    return settled.length;
  }

  /** Recovers now and every few seconds; the returned function stops it. */
  startRecovery(): () => Promise<unknown> {
    return repeatInBackground(
      RECOVER_EVERY_MS,
      () => this.recover(),
      (err) => this.logger?.warn({ err }, 'history outbox recovery failed; will retry'),
    );
  }

  private async append(entry: AuditDoc) {
    try {
      await this.log.insertOne(entry);
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY)) throw err;
    }
  }
}

/** The entry of a change to a record, `step` naming it among the record's (`v<version>`, `deleted`). */
export function recordEntry(
  entity: AuditEntity,
  id: ObjectId,
  step: string,
  at: Date,
  actor: Actor | null,
  action: AuditAction,
  changes: AuditChanges,
): AuditDoc {
  return auditEntry({ step, at, actor, action, entity, entityId: id.toHexString(), changes });
}

/** The entry of a change, `at` the change's own time. */
export function auditEntry(fields: Omit<AuditDoc, '_id'> & { step: string }): AuditDoc {
  const { step, ...rest } = fields;
  return { _id: entryId(fields.entity, fields.entityId, step), ...rest };
}

/** An entry's key among a record's pending ones: never all digits (which some servers would read as an array index). */
const pendingKey = (id: string) => `e${id}`;
