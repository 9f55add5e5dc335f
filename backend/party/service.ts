import { setTimeout as sleep } from 'node:timers/promises';
import { actorOf } from '@pdash/backend-shared/audit';
import type { RecordCache } from '@pdash/backend-shared/cache';
import { failure, notFound, parseRequest, ServerError, Status, versionConflict, writeConflict } from '@pdash/backend-shared/errors';
import { parseId } from '@pdash/backend-shared/ids';
import { streamCursor } from '@pdash/backend-shared/mongo';
import { DEFAULT_LIMIT, MAX_LIMIT } from '@pdash/backend-shared/pagination';
import { limitField } from '@pdash/backend-shared/validation';
import { expectedVersion, optionalPartyFields, type PartyValues, partyChanges, partyFields, text } from '@pdash/contracts';
import type { Party } from '@pdash/proto/common/v1/party';
import type { CustomersServiceImplementation } from '@pdash/proto/customers/v1/customers';
import type { CallContext } from 'nice-grpc';
import { z } from 'zod';
import { importParties } from './import.js';
import { type PartyChanges, type PartyStore, toParty } from './store.js';

/** How many orders refer to a record; `pending` of them are still being written. */
export type CountReferences = (id: string, context: CallContext) => Promise<{ count: number; pending: number }>;

/** On create an empty optional field is the same as none; on update it removes the field. */
const none = (value: string | undefined) => (value === '' ? undefined : value);
const createSchema = partyFields.transform((fields) => {
  const values: PartyValues = { name: fields.name };
  for (const field of optionalPartyFields) if (none(fields[field]) !== undefined) values[field] = fields[field];
  return values;
});
const updateSchema = partyChanges.extend({ expectedVersion: expectedVersion.optional() }).transform(({ expectedVersion, ...fields }) => {
  const changes: PartyChanges = {};
  if (fields.name !== undefined) changes.name = fields.name;
  for (const field of optionalPartyFields) if (fields[field] !== undefined) changes[field] = none(fields[field]) ?? null;
  return { expectedVersion, ...changes };
});
const exportSchema = z.object({ q: text(200).optional() });
const MAX_EMAILS = 50_000;
const listSchema = z.object({ q: text(200).optional(), limit: limitField(DEFAULT_LIMIT, MAX_LIMIT), cursor: z.string().optional() });

/**
 * Orders still being written get this long to be confirmed or rolled back before a delete gives up
 * (busy): time, not a number of rounds, so that the answer comes well within the caller's deadline
 * (2 s) however long each look at the references takes on a loaded machine. A pending order
 * normally settles in milliseconds.
 */
const PENDING_BUDGET_MS = 1_000;
const PENDING_WAIT_MS = 25;

/**
 * The customers service and the suppliers service: the same RPCs over their own collection and
 * cache. `kind` names the record in messages ("no customer …").
 */
export function createPartyService(deps: {
  kind: 'customer' | 'supplier';
  store: PartyStore;
  cache: RecordCache<Party>;
  countReferences?: CountReferences;
}): CustomersServiceImplementation {
  const { kind, store, cache, countReferences } = deps;
  const missing = (id: string) => notFound(`no ${kind} ${id}`);

  return {
    async create(request, context) {
      return store.create(parseRequest(createSchema, request), actorOf(context.metadata));
    },

    async get(request) {
      // One spelling of an id for every key (an id is hex in either case): the cache's, the claims'.
      const objectId = parseId(request.id);
      const id = objectId.toHexString();
      const cached = await cache.get(id);
      if (cached) return cached;
      const record = await store.get(objectId);
      if (!record) throw missing(id);
      await cache.fill(record);
      return record;
    },

    async batchGet({ ids, forReference }) {
      if (ids.length > MAX_LIMIT) throw new ServerError(Status.INVALID_ARGUMENT, `ids: at most ${MAX_LIMIT}`);
      const objectIds = [...new Set(ids)].map((id, i) => parseId(id, `ids.${i}`));
      return { items: await store.batchGet(objectIds, forReference) };
    },

    async list(request) {
      return store.list(parseRequest(listSchema, request));
    },

    async import(requests, context) {
      return importParties(store, createSchema, requests, context);
    },

    async *export(request, context) {
      const { q } = parseRequest(exportSchema, request);
      yield* streamCursor(store.exportCursor(q), context.signal, toParty);
    },

    async findByEmails({ emails }) {
      if (emails.length > MAX_EMAILS) throw new ServerError(Status.INVALID_ARGUMENT, `emails: at most ${MAX_EMAILS}`);
      return { items: await store.findByEmails([...new Set(emails.map((e) => e.toLowerCase()))]) };
    },

    async update(request, context) {
      const objectId = parseId(request.id);
      const id = objectId.toHexString();
      const { expectedVersion, ...changes } = parseRequest(updateSchema, request);
      await cache.markWriting(id);
      const outcome = await store.update(objectId, changes, { expectedVersion, signal: context.signal, actor: actorOf(context.metadata) });
      if (outcome.status === 'missing') throw missing(id);
      if (outcome.status === 'busy') throw new ServerError(Status.UNAVAILABLE, `${kind} ${id} is busy; try again`);
      if (outcome.status === 'conflict') {
        if (expectedVersion !== undefined) throw versionConflict(`${kind} ${id}`, expectedVersion);
        throw writeConflict(`${kind} ${id} is being changed by others; try again`);
      }
      const { record } = outcome;
      await cache.put(record);
      return record;
    },

    /**
     * Mark, check, then delete or roll back: while the mark stands no new order may refer to the
     * record, so once no order refers to it the delete is safe (docs/design.md).
     */
    async delete(request, context) {
      const objectId = parseId(request.id);
      const id = objectId.toHexString();
      const mark = await store.markDeleting(objectId);
      if (mark.status === 'missing') throw missing(id);
      if (mark.status === 'busy') throw writeConflict(`${kind} ${id} is already being deleted`);
      let removing = false;
      try {
        if (countReferences) await ensureUnreferenced(id, context);
        // Reference checks ignore a stale mark (its deleter may have died). A delete that stalled
        // that long (a starved process) could remove the record just after an order's check passed
        // it by: it gives up well before, so that even a slow removal lands while every check still
        // sees the mark (the storage timing, @pdash/backend-shared/versioned; docs/design.md).
        await cache.markWriting(id);
        if (!store.records.mayStillRemove(mark.at))
          throw new ServerError(Status.UNAVAILABLE, `${kind} ${id} took too long to delete; try again`);
        const removal = await store.remove(objectId, mark.at, actorOf(context.metadata), () => {
          removing = true;
        });
        if (removal !== 'removed') {
          // Nothing was sent: the mark may go.
          removing = false;
          if (removal === 'missing') throw missing(id);
          throw new ServerError(
            Status.UNAVAILABLE,
            `${kind} ${id} ${removal === 'late' ? 'took too long to delete' : 'is busy'}; try again`,
          );
        }
      } catch (err) {
        // Once the removal was sent, the mark stays (and goes stale): the removal may still land (a
        // timed-out call can), and reference checks rely on a record being gone before its mark is.
        if (!removing) await store.unmarkDeleting(objectId, mark.at);
        throw err;
      }
      await cache.drop(id);
      return { id };
    },
  };

  async function ensureUnreferenced(id: string, context: CallContext) {
    const started = Date.now();
    for (;;) {
      const { count, pending } = await countReferences!(id, context);
      if (count === 0) return;
      if (count > pending) {
        throw failure(Status.FAILED_PRECONDITION, 'STILL_REFERENCED', `${kind} ${id} still has ${count} order${count === 1 ? '' : 's'}`);
      }
      // Only orders still being written refer to it: they will see the mark and roll back.
      if (Date.now() - started >= PENDING_BUDGET_MS) throw new ServerError(Status.UNAVAILABLE, `${kind} ${id} is busy; try again`);
      await sleep(PENDING_WAIT_MS);
    }
  }
}
