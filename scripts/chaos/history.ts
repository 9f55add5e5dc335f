/**
 * The audit ledger: after the run, the history (API.md "History (audit)") against the records.
 * Every change that landed has exactly one entry, also those of a service killed mid-write (the
 * outbox settles them once their write can no longer land: backend/shared/audit.ts), and no entry
 * names a change that did not land. Each record's writes are versions 1..n, so their entries' ids
 * are known (entryId), acknowledged or not.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { entryId } from '@pdash/backend-shared/audit';
import type { MongoClient } from 'mongodb';
import type { Ledger } from './ledger.js';
import { MONGO_DB } from './types.js';

export interface HistoryCheck {
  /** Changes that landed (record versions) of the records the run made. */
  changes: number;
  /** Changes without their entry, once the outboxes were given time to settle. */
  missing: number;
  /** Entries about these records that name a version the record never reached. */
  orphans: number;
  problems: string[];
}

/** How long the check waits for the outboxes to settle (their entries settle 30 s after announcement). */
const SETTLE_WITHIN_MS = 60_000;

export async function verifyHistory(mongo: MongoClient, ledger: Ledger): Promise<HistoryCheck> {
  const until = Date.now() + SETTLE_WITHIN_MS;
  for (;;) {
    const check = await checkOnce(mongo, ledger);
    if ((check.missing === 0 && check.orphans === 0) || Date.now() > until) return check;
    await sleep(2_000);
  }
}

async function checkOnce(mongo: MongoClient, ledger: Ledger): Promise<HistoryCheck> {
  const db = mongo.db(MONGO_DB);
  const result: HistoryCheck = { changes: 0, missing: 0, orphans: 0, problems: [] };
  const kinds = [
    { entity: 'customer', collection: 'customers', ids: [...ledger.customers.keys()] },
    { entity: 'order', collection: 'orders', ids: [...ledger.orders.values()].map((o) => o.id) },
  ] as const;
  for (const { entity, collection, ids } of kinds) {
    const versions = new Map<string, number>();
    for (const doc of await db
      .collection(collection)
      .find({}, { projection: { version: 1, pendingSince: 1 } })
      .toArray()) {
      // An order still pending was never made: it has no entry yet.
      if (doc.pendingSince === undefined) versions.set(doc._id.toHexString(), doc.version as number);
    }
    const entries = await db
      .collection<{ _id: string; entityId: string }>('audit')
      .find({ entity: entity }, { projection: { _id: 1, entityId: 1 } })
      .toArray();
    const present = new Set(entries.map((e) => e._id));
    for (const id of ids) {
      const version = versions.get(id) ?? 0;
      for (let v = 1; v <= version; v++) {
        result.changes++;
        if (!present.has(entryId(entity, id, `v${v}`))) {
          result.missing++;
          if (result.problems.length < 20) result.problems.push(`${entity} ${id} v${v}: no history entry`);
        }
      }
      // Ten versions past the record's own cannot have been written: their entries would be orphans.
      for (let v = version + 1; v <= version + 10; v++) {
        if (present.has(entryId(entity, id, `v${v}`))) {
          result.orphans++;
          if (result.problems.length < 20) result.problems.push(`${entity} ${id}: an entry for v${v}, which never landed`);
        }
      }
    }
  }
  return result;
}
