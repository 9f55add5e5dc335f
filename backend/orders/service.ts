import { type Actor, actorOf } from '@pdash/backend-shared/audit';
import { logFieldsOf } from '@pdash/backend-shared/context';
import { invalidArgument, notFound, parseRequest, ServerError, Status, versionConflict, writeConflict } from '@pdash/backend-shared/errors';
import { parseId } from '@pdash/backend-shared/ids';
import { streamCursor } from '@pdash/backend-shared/mongo';
import { DEFAULT_LIMIT, MAX_LIMIT } from '@pdash/backend-shared/pagination';
import { limitField } from '@pdash/backend-shared/validation';
import type { VersionedRecords } from '@pdash/backend-shared/versioned';
import { expectedVersion, MAX_STATS_DAYS, totalCents } from '@pdash/contracts';
import { type Order, OrderEventType, type OrdersServiceImplementation } from '@pdash/proto/orders/v1/orders';
import { ObjectId } from 'mongodb';
import type { CallContext } from 'nice-grpc';
import { z } from 'zod';
import { type OrderEventLog, parseEventId } from './events.js';
import { importOrders } from './import.js';
import type { Parties } from './parties.js';
import type { CreateFields, OrderRequestDoc, OrderRequests } from './requests.js';
import { type OrderChanges, type OrderDoc, type OrdersStore, PENDING_TTL_MS, toOrder, utcDay } from './store.js';

const createSchema = z.object({ totalCents });
const idempotencyKeySchema = z.object({
  idempotencyKey: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
});
const updateSchema = z.object({
  totalCents: totalCents.optional(),
  expectedVersion: expectedVersion.optional(),
});
const listSchema = z.object({ limit: limitField(DEFAULT_LIMIT, MAX_LIMIT), cursor: z.string().optional() });
// Same rule as a page size: 0 (protobuf's "unset") means the default.
const statsSchema = z.object({ days: limitField(30, MAX_STATS_DAYS) });

const TOP_SUPPLIERS = 10;
const DAY_MS = 86_400_000;

/** The `customerId` or the `supplierId` of a request that takes exactly one (List takes at most one). */
function partyOf(request: { customerId?: string; supplierId?: string }) {
  if (request.customerId !== undefined && request.supplierId !== undefined)
    throw invalidArgument('supplierId', 'give customerId or supplierId, not both');
  if (request.customerId !== undefined)
    return { kind: 'customer', field: 'customerId', hex: request.customerId, id: parseId(request.customerId, 'customerId') } as const;
  if (request.supplierId !== undefined)
    return { kind: 'supplier', field: 'supplierId', hex: request.supplierId, id: parseId(request.supplierId, 'supplierId') } as const;
  return undefined;
}

/** The orders service. The reference protocol it follows with customers and suppliers is described in store.ts. */
export function createOrdersService(deps: {
  store: OrdersStore;
  parties: Parties;
  events: OrderEventLog;
  /** The storage protocol's versioned updates over the orders collection. */
  versions: VersionedRecords;
  requests: OrderRequests;
}): OrdersServiceImplementation {
  const { store, parties, events, versions, requests } = deps;
  const missing = (id: string) => notFound(`no order ${id}`);
  const stillCreating = () =>
    new ServerError(Status.UNAVAILABLE, 'an order with this idempotencyKey is still being created; try again shortly');

  /**
   * Starts counting the orders for a change's event, alongside the change where the count does not
   * depend on it. A failed count only costs the event (see OrderEventLog.publish).
   */
  function startCount() {
    const counting = store.countOrders();
    counting.catch(() => {});
    return counting;
  }

  /**
   * For a create whose idempotency key an earlier create took: the order that one made (as it is
   * now), or undefined when it made none and its key is free again. INVALID_ARGUMENT when the
   * earlier create asked for another order; UNAVAILABLE while it is still at work; NOT_FOUND when
   * its order has been deleted since.
   */
  async function orderMadeFor(earlier: OrderRequestDoc, fields: CreateFields): Promise<Order | undefined> {
    if (
      !earlier.customerId.equals(fields.customerId) ||
      !earlier.supplierId.equals(fields.supplierId) ||
      earlier.totalCents !== fields.totalCents
    )
      throw invalidArgument('idempotencyKey', 'was already used for a different order');
    const doc = await store.getAny(earlier.orderId);
    if (doc && doc.pendingSince === undefined) return toOrder(doc);
    if (!doc && earlier.made)
      throw notFound(`order ${earlier.orderId.toHexString()}, made with this idempotencyKey, has been deleted since`);
    const abandoned = Date.now() - (doc?.pendingSince ?? earlier.at).getTime() > PENDING_TTL_MS;
    if (!abandoned) throw stillCreating();
    // The earlier create died before it finished (or failed and could not free its key). Only the
    // one retry that removes its pending order (or, with none, the key) goes on to create afresh.
    if (doc && !(await store.dropAbandoned(doc._id))) {
      const now = await store.getAny(earlier.orderId);
      if (now && now.pendingSince === undefined) return toOrder(now);
      throw stillCreating();
    }
    await requests.release(earlier._id, earlier.orderId);
    return undefined;
  }

  /** An update that names references: they are recorded as pending before they are checked (see store.ts). */
  async function updateReferences(
    objectId: ObjectId,
    request: { customerId?: string; supplierId?: string },
    refs: Pick<OrderChanges, 'customerId' | 'supplierId'>,
    changes: OrderChanges,
    before: OrderDoc,
    deadline: { inTime(): boolean },
    actor: Actor | null,
    context: CallContext,
  ): Promise<OrderDoc | null> {
    const reservation = await store.reserveRefs(objectId, refs);
    if (!reservation) return null;
    const { token } = reservation;
    let doc: OrderDoc | null = null;
    try {
      // A reference the order already has needs no check: that record cannot be deleted under it.
      await parties.ensureReferable(
        {
          customerId: refs.customerId?.equals(reservation.before.customerId) ? undefined : request.customerId,
          supplierId: refs.supplierId?.equals(reservation.before.supplierId) ? undefined : request.supplierId,
        },
        context,
      );
      // The checks took round trips: the write goes only while the version claim still holds.
      if (!deadline.inTime()) throw new ServerError(Status.UNAVAILABLE, `order ${objectId.toHexString()} is busy; try again`);
      doc = await store.update(objectId, changes, { before, token, actor, deadline });
      return doc;
    } finally {
      // The update clears the reservation; it is left only when the check or the update failed.
      if (!doc) await store.releaseRefs(objectId, token);
    }
  }

  return {
    async create(request, context) {
      const fields: CreateFields = {
        customerId: parseId(request.customerId, 'customerId'),
        supplierId: parseId(request.supplierId, 'supplierId'),
        totalCents: parseRequest(createSchema, request).totalCents,
      };
      const { idempotencyKey: key } = parseRequest(idempotencyKeySchema, request);
      const orderId = new ObjectId();
      // A repeated create returns what the first one made (requests.ts), or makes the order afresh
      // when the first one made none in the end.
      for (let attempt = 0; key; attempt++) {
        const earlier = await requests.claim(key, orderId, fields);
        if (!earlier) break;
        const made = await orderMadeFor(earlier, fields);
        if (made) return made;
        if (attempt > 0) throw stillCreating();
      }
      // From here on, a create that makes no order frees its key for the retry.
      const releaseKey = async () => {
        if (key) await requests.releaseEventually(key, orderId);
      };
      let doc: OrderDoc;
      try {
        doc = await store.insertPending(orderId, fields);
      } catch (err) {
        await releaseKey();
        throw err;
      }
      // The new order is in the collection from now on, pending or not, so the count can start now.
      const orderCount = startCount();
      try {
        await parties.ensureReferable({ customerId: request.customerId, supplierId: request.supplierId }, context);
      } catch (err) {
        await store.discardPending(doc._id);
        await releaseKey();
        throw err;
      }
      if (!(await store.confirm(doc, actorOf(context.metadata)))) {
        await releaseKey();
        throw new ServerError(Status.UNAVAILABLE, 'the order took too long to create; try again');
      }
      // Failing this only costs the "deleted since" answer for a retry of a later-deleted order.
      if (key) await requests.markMade(key, orderId).catch(() => {});
      const order = toOrder(doc);
      await events.publish(OrderEventType.ORDER_EVENT_TYPE_CREATED, order, orderCount, logFieldsOf(context));
      return order;
    },

    async get({ id }) {
      const doc = await store.get(parseId(id));
      if (!doc) throw missing(id);
      return toOrder(doc);
    },

    async list(request, context) {
      const party = partyOf(request);
      const { limit, cursor } = parseRequest(listSchema, request);
      const [page] = await Promise.all([
        store.list({ party, limit, cursor }),
        party && parties.ensureExists(party.kind, party.hex, context),
      ]);
      return page;
    },

    async update(request, context) {
      const actor = actorOf(context.metadata);
      const objectId = parseId(request.id);
      const refs: Pick<OrderChanges, 'customerId' | 'supplierId'> = {};
      if (request.customerId !== undefined) refs.customerId = parseId(request.customerId, 'customerId');
      if (request.supplierId !== undefined) refs.supplierId = parseId(request.supplierId, 'supplierId');
      const { expectedVersion, totalCents } = parseRequest(updateSchema, request);
      const changes: OrderChanges = { ...refs, ...(totalCents === undefined ? {} : { totalCents }) };

      const orderCount = startCount();
      // FerretDB 1.x cannot make a version filter atomic: the storage protocol's versioned update
      // (@pdash/backend-shared/versioned) claims version n + 1 first, so two updates never both win.
      // One spelling of an id for every key: `65F…` and `65f…` are one order, with one set of claims.
      const outcome = await versions.update(objectId.toHexString(), {
        expectedVersion,
        read: () => store.get(objectId),
        write: (before, deadline) =>
          refs.customerId || refs.supplierId
            ? updateReferences(objectId, request, refs, changes, before, deadline, actor, context)
            : store.update(objectId, changes, { before, actor, deadline }),
      });
      if (outcome.status === 'missing') throw missing(request.id);
      if (outcome.status === 'busy') throw new ServerError(Status.UNAVAILABLE, `order ${request.id} is busy; try again`);
      if (outcome.status === 'conflict') {
        if (expectedVersion !== undefined) throw versionConflict(`order ${request.id}`, expectedVersion);
        throw writeConflict(`order ${request.id} was changed by another update; try again`);
      }
      const doc = outcome.record;
      const order = toOrder(doc);
      await events.publish(OrderEventType.ORDER_EVENT_TYPE_UPDATED, order, orderCount, logFieldsOf(context));
      return order;
    },

    /** Under the order's next version claim, like an update: no update lands between the read and the removal. */
    async delete({ id }, context) {
      const objectId = parseId(id);
      const outcome = await versions.update(objectId.toHexString(), {
        read: () => store.get(objectId),
        write: (before, deadline) => store.remove(before, actorOf(context.metadata), deadline),
      });
      if (outcome.status === 'missing') throw missing(id);
      if (outcome.status !== 'updated') throw new ServerError(Status.UNAVAILABLE, `order ${id} is busy; try again`);
      await events.publish(OrderEventType.ORDER_EVENT_TYPE_DELETED, toOrder(outcome.record), store.countOrders(), logFieldsOf(context));
      return { id };
    },

    async count(request) {
      const party = partyOf(request);
      if (!party) throw invalidArgument('customerId', 'give customerId or supplierId');
      return store.countReferences(party.field, party.id);
    },

    async getStats(request, context) {
      const { days } = parseRequest(statsSchema, request);
      const now = new Date();
      const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
      const totals = await store.totalsSince(since, TOP_SUPPLIERS);
      const names = await parties.supplierNames(
        totals.bySupplier.map((s) => s.supplierId),
        context,
      );
      const byDayFound = new Map(totals.byDay.map((d) => [d.day, d]));
      const byDay = Array.from({ length: days }, (_, i) => {
        const day = utcDay(new Date(since.getTime() + i * DAY_MS));
        return byDayFound.get(day) ?? { day, count: 0, revenueCents: 0 };
      });
      return {
        count: totals.byDay.reduce((sum, d) => sum + d.count, 0),
        revenueCents: totals.byDay.reduce((sum, d) => sum + d.revenueCents, 0),
        byDay,
        bySupplier: totals.bySupplier.map((s) => ({ ...s, name: names.get(s.supplierId) ?? '' })),
      };
    },

    async import(requests, context) {
      return importOrders({ store, parties }, requests, context);
    },

    async *export(request, context) {
      const party = partyOf(request);
      if (party) await parties.ensureExists(party.kind, party.hex, context);
      yield* streamCursor(store.exportCursor(party), context.signal, toOrder);
    },

    async *watch(request, context) {
      // An empty id is the same as none: SSE clients send an empty Last-Event-ID.
      const after = request.afterEventId ? parseEventId(request.afterEventId) : undefined;
      // The header tells the client its watch is live (and from where) before any event arrives.
      yield* events.watch(after, context.signal, (start) => {
        context.header.set('x-watch-after', start);
        context.sendHeader();
      });
    },
  };
}
