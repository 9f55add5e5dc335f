import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@pdash/backend-shared/logger';
import type { OrderRecord } from '@pdash/contracts';
import { type OrderEvent, OrderEventType } from '@pdash/proto/orders/v1/orders';
import { TRPCError, tracked } from '@trpc/server';
import { isAbortError } from 'abort-controller-x';
import { type CallOptions, ClientError, Status } from 'nice-grpc';
import type { SessionUser } from './auth-cache.js';
import type { Clients } from './clients.js';
import { toTRPCError } from './errors.js';
import { eventLag, secondsSinceEventId, sseSubscribers } from './metrics.js';
import { withNames } from './records.js';

const TYPES = {
  [OrderEventType.ORDER_EVENT_TYPE_CREATED]: 'created',
  [OrderEventType.ORDER_EVENT_TYPE_UPDATED]: 'updated',
  [OrderEventType.ORDER_EVENT_TYPE_DELETED]: 'deleted',
} as const;

export type OrderChange = { type: (typeof TYPES)[keyof typeof TYPES]; order: OrderRecord; count: number };

/** Watch failures this replica gets over by watching again from its last event id. */
const RESUMABLE = new Set([Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED, Status.DEADLINE_EXCEEDED, Status.CANCELLED]);
const MAX_BACKOFF_MS = 2_000;
/** Enriched events shared by this replica's subscribers (a few seconds' worth is plenty). */
const SHARED_EVENTS = 1_000;

/**
 * orders.onChange: the orders service's Watch (a shared Redis stream, so every replica sees every
 * change), as tracked SSE events. A client that reconnects with its last event id gets what it
 * missed; this replica itself resumes the same way when the orders service hiccups. The stream ends
 * when the client goes away; when the token expires or the replica stops it ends with an error
 * (UNAUTHORIZED, or SERVICE_UNAVAILABLE so that the client reconnects, through Nginx, elsewhere).
 */
/** Who watches: what a stream needs of its request (not the whole tRPC context). */
export interface Watcher {
  clients: Clients;
  rpc: CallOptions;
  requestId: string;
  user: SessionUser;
}

export class OrderFeed {
  /** Enrichment by event id: N subscribers of this replica cost two BatchGets per event, not 2N. */
  private readonly enriched = new Map<string, Promise<OrderRecord>>();

  constructor(
    private readonly log: Logger,
    private readonly stopping: AbortSignal,
    private readonly deadlineMs: number,
  ) {}

  async *watch(ctx: Watcher, lastEventId: string | undefined, clientGone: AbortSignal | undefined) {
    sseSubscribers.inc();
    try {
      yield* this.follow(ctx, lastEventId, clientGone);
    } finally {
      sseSubscribers.dec();
    }
  }

  private async *follow(ctx: Watcher, lastEventId: string | undefined, clientGone: AbortSignal | undefined) {
    const expired = AbortSignal.timeout(Math.max(0, ctx.user.expiresAt - Date.now()));
    const signal = AbortSignal.any([expired, this.stopping, ...(clientGone ? [clientGone] : [])]);
    let after = lastEventId || undefined;
    for (let failures = 0; !signal.aborted; ) {
      try {
        const events = ctx.clients.orders.watch(
          { afterEventId: after },
          {
            signal,
            metadata: ctx.rpc.metadata,
            // Where a watch "from now" starts: a resumed watch must not skip what came meanwhile.
            onHeader: (header) => {
              after ??= header.get('x-watch-after');
            },
          },
        );
        for await (const event of events) {
          failures = 0;
          const type = TYPES[event.type as keyof typeof TYPES];
          if (type && event.order) {
            const change = { type, order: await this.enrich(ctx, event), count: event.orderCount } satisfies OrderChange;
            const lag = secondsSinceEventId(event.eventId);
            if (lag !== undefined) eventLag.observe(lag);
            yield tracked(event.eventId, change);
          }
          after = event.eventId;
        }
      } catch (err) {
        if (signal.aborted || isAbortError(err)) break;
        if (!(err instanceof ClientError && RESUMABLE.has(err.code))) throw toTRPCError(err);
        failures++;
        this.log.warn({ requestId: ctx.requestId, code: Status[err.code], after }, 'order watch interrupted; resuming');
        await sleep(Math.min(50 * 2 ** failures, MAX_BACKOFF_MS), undefined, { signal }).catch(() => {});
      }
    }
    if (expired.aborted) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'token: expired; log in again' });
    if (this.stopping.aborted)
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'this replica is stopping; reconnect with the last event id' });
  }

  private enrich(ctx: Watcher, event: OrderEvent): Promise<OrderRecord> {
    let order = this.enriched.get(event.eventId);
    if (!order) {
      // The subscription outlives its request's deadline: each look-up gets a deadline of its own.
      const rpc = { ...ctx.rpc, deadline: new Date(Date.now() + this.deadlineMs) };
      order = withNames({ clients: ctx.clients, rpc }, [event.order!]).then(([record]) => record!);
      if (this.enriched.size >= SHARED_EVENTS) this.enriched.delete(this.enriched.keys().next().value!);
      this.enriched.set(event.eventId, order);
      order.catch(() => this.enriched.delete(event.eventId));
    }
    return order;
  }
}
