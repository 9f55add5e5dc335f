import { AUDIT_COLLECTION, type AuditDoc } from '@pdash/backend-shared/audit';
import { invalidArgument } from '@pdash/backend-shared/errors';
import { CURSOR } from '@pdash/contracts';
import type { AuditEntry } from '@pdash/proto/auth/v1/auth';
import type { Collection, Db, Filter } from 'mongodb';

export interface HistoryQuery {
  entity?: string;
  entityId?: string;
  actorId?: string;
  limit: number;
  cursor?: string;
  /** Entries about users: for admins only. */
  includeUsers: boolean;
}

/**
 * The history as audit.list reads it, newest first. Every service appends to the `audit`
 * collection (@pdash/backend-shared/audit); this is its one reader, and nothing changes or
 * removes an entry.
 */
export class History {
  private readonly log: Collection<AuditDoc>;

  constructor(db: Db) {
    this.log = db.collection<AuditDoc>(AUDIT_COLLECTION);
  }

  async list(query: HistoryQuery): Promise<{ items: AuditEntry[]; nextCursor?: string }> {
    const conditions: Filter<AuditDoc>[] = [];
    if (query.entity) conditions.push({ entity: query.entity as AuditDoc['entity'] });
    else if (!query.includeUsers) conditions.push({ entity: { $ne: 'user' } });
    if (query.entityId) conditions.push({ entityId: query.entityId.toLowerCase() });
    if (query.actorId) conditions.push({ 'actor.id': query.actorId.toLowerCase() });
    if (query.cursor !== undefined) {
      const match = CURSOR.exec(query.cursor);
      if (!match?.[1] || !match[2]) throw invalidArgument('cursor', 'is not a cursor this service made');
      const at = new Date(Number(match[1]));
      conditions.push({ $or: [{ at: { $lt: at } }, { at, _id: { $lt: match[2] } }] });
    }
    const filter: Filter<AuditDoc> = conditions.length === 0 ? {} : conditions.length === 1 ? conditions[0]! : { $and: conditions };
    const docs = await this.log
      .find(filter)
      .sort({ at: -1, _id: -1 })
      .limit(query.limit + 1)
      .toArray();
    const page = docs.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map(toEntry),
      nextCursor: docs.length > query.limit && last ? `${last.at.getTime()}_${last._id}` : undefined,
    };
  }
}

function toEntry(doc: AuditDoc): AuditEntry {
  return {
    id: doc._id,
    at: doc.at.toISOString(),
    actor: doc.actor ?? undefined,
    action: doc.action,
    entity: doc.entity,
    entityId: doc.entityId,
    changesJson: JSON.stringify(doc.changes ?? {}),
  };
}
