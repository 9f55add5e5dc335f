import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@pdash/backend-shared/logger';
import type { OrderRecord } from '@pdash/contracts';
import { roleAllows } from '@pdash/contracts';
import { type OrderEvent, OrderEventType } from '@pdash/proto/orders/v1/orders';
import { TRPCError, tracked } from '@trpc/server';
import { isAbortError } from 'abort-controller-x';
import { type CallOptions, ClientError, Status } from 'nice-grpc';
import { type SessionUser, TokenRefused, type TokenVerifier } from './auth-cache.js';
import type { Clients } from './clients.js';
import { toTRPCError } from './errors.js';
import { eventLag, secondsSinceEventId, sseSubscribers } from './metrics.js';
import { withNames } from './records.js';

const TYPES = {
  [OrderEventType.ORDER_EVENT_TYPE_CREATED]: 'created',
  [OrderEventType.ORDER_EVENT_TYPE_UPDATED]: 'updated',
  [OrderEventType.ORDER_EVENT_TYPE_DELETED]: 'deleted',
} as const;

/**
 * One event of orders.onChange: an order created, updated or deleted; or `reset` when the client
 * asked to resume from further back than is replayed (it refetches, and goes on from here).
 */
export type OrderChange = { type: (typeof TYPES)[keyof typeof TYPES]; order: OrderRecord; count: number } | { type: 'reset' };

/** Live order streams one user may hold open on one replica; one more is refused with 429. */
export const MAX_STREAMS_PER_USER = 5;
/** How often an open stream asks again whether its token holds (a logout on another replica). */
export const TOKEN_RECHECK_MS = 5_000;
/** A lastEventId older than this is not replayed event by event: the client gets a `reset`. */
export const REPLAY_WINDOW_MS = 5 * 60_000;
/** How far ahead of this replica's clock an event id may be (clocks differ a little). */
const FUTURE_TOLERANCE_MS = 60_000;

/** Watch failures this replica gets over by watching again from its last event id. */
const RESUMABLE = new Set([Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED, Status.DEADLINE_EXCEEDED, Status.CANCELLED]);
const MAX_BACKOFF_MS = 2_000;
/** Enriched events shared by this replica's subscribers (a few seconds' worth is plenty). */
const SHARED_EVENTS = 1_000;

/** Who watches: what a stream needs of its request (not the whole tRPC context). */
export interface Watcher {
  clients: Clients;
  rpc: CallOptions;
  requestId: string;
  user: SessionUser;
  token: string;
  tokens: TokenVerifier;
}

/** An open stream: its token (a logout ends the streams it opened) and what ends it. */
interface Stream {
  token: string;
  ended: AbortController;
}

const tooManyStreams = () =>
  new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: `streams: at most ${MAX_STREAMS_PER_USER} live order streams per user; close one first`,
  });

/**
 * orders.onChange: the orders service's Watch (a shared Redis stream, so every replica sees every
 * change), as tracked SSE events. A client that reconnects with its last event id gets what it
 * missed; this replica itself resumes the same way when the orders service hiccups. The stream ends
 * when the client goes away; when the token expires or the replica stops it ends with an error
 * (UNAUTHORIZED, or SERVICE_UNAVAILABLE so that the client reconnects, through Nginx, elsewhere).
 */
export class OrderFeed {
  /** Enrichment by event id: N subscribers of this replica cost two BatchGets per event, not 2N. */
  private readonly enriched = new Map<string, Promise<OrderRecord>>();
  /** Open streams by user id. */
  private readonly open = new Map<string, Set<Stream>>();

  constructor(
    private readonly log: Logger,
    private readonly stopping: AbortSignal,
    private readonly deadlineMs: number,
  ) {}

  /**
   * Whether a user already holds MAX_STREAMS_PER_USER streams here. main.ts asks before it hands an
   * SSE request to tRPC (which answers 200 before its procedure runs), so that the refusal is the
   * response's status, 429. `watch` counts again as it starts: of several opened at once, those
   * over the limit end with the same error as an event.
   */
  isFull(userId: string) {
    return (this.open.get(userId)?.size ?? 0) >= MAX_STREAMS_PER_USER;
  }

  /** The refusal `isFull` calls for. */
  static readonly tooManyStreams = tooManyStreams;

  /** Ends, within moments, every stream opened with this token (its logout here). */
  endStreamsOf(token: string) {
    for (const streams of this.open.values()) for (const stream of streams) if (stream.token === token) stream.ended.abort();
  }

  async *watch(ctx: Watcher, lastEventId: string | undefined, clientGone: AbortSignal | undefined) {
    const mine = this.open.get(ctx.user.id) ?? new Set<Stream>();
    if (mine.size >= MAX_STREAMS_PER_USER) throw tooManyStreams();
    const stream: Stream = { token: ctx.token, ended: new AbortController() };
    mine.add(stream);
    this.open.set(ctx.user.id, mine);
    sseSubscribers.inc();
    try {
      yield* this.follow(ctx, lastEventId, clientGone, stream);
    } finally {
      sseSubscribers.dec();
      mine.delete(stream);
      if (mine.size === 0 && this.open.get(ctx.user.id) === mine) this.open.delete(ctx.user.id);
    }
  }

  /**
   * Ends the stream when its token stops holding or its user's role drops: asked again every
   * TOKEN_RECHECK_MS (the answer is at most VERIFIED_TTL_MS old), so a logout, a revocation, a
   * disable or a demotion anywhere ends it within 10 s.
   */
  private watchToken(ctx: Watcher, stream: Stream) {
    const timer = setInterval(() => {
      ctx.tokens.verify(ctx.token, ctx.rpc.metadata).then(
        // A demotion ends the stream too: it was opened with the rights of the role then held.
        (user) => {
          if (!roleAllows(user.role, ctx.user.role)) stream.ended.abort();
        },
        (err: unknown) => {
          // Refused, not merely unanswered: an auth service that is away does not end streams.
          if (err instanceof TokenRefused || (err instanceof ClientError && err.code === Status.UNAUTHENTICATED)) stream.ended.abort();
        },
      );
    }, TOKEN_RECHECK_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async *follow(ctx: Watcher, lastEventId: string | undefined, clientGone: AbortSignal | undefined, stream: Stream) {
    const expired = AbortSignal.timeout(Math.max(0, ctx.user.expiresAt - Date.now()));
    const signal = AbortSignal.any([expired, this.stopping, stream.ended.signal, ...(clientGone ? [clientGone] : [])]);
    const stopWatchingToken = this.watchToken(ctx, stream);
    try {
      yield* this.changes(ctx, lastEventId, signal);
    } finally {
      stopWatchingToken();
    }
    if (stream.ended.signal.aborted)
      throw new TRPCError({
        code: 'UNAUTHORIZED',
        message: 'token: no longer valid for this stream (logged out, disabled or role changed); log in again',
      });
    if (expired.aborted) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'token: expired; log in again' });
    if (this.stopping.aborted)
      throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'this replica is stopping; reconnect with the last event id' });
  }

  private async *changes(ctx: Watcher, lastEventId: string | undefined, signal: AbortSignal) {
    let after = lastEventId || undefined;
    const age = after === undefined ? undefined : Date.now() - Number(after.split('-')[0]);
    // Too old, or from the future (made up, or another clock): not a position to replay from.
    if (age !== undefined && !(age <= REPLAY_WINDOW_MS && age >= -FUTURE_TOLERANCE_MS)) {
      // Too far back to replay one by one (or a made-up id): start from now; the client refetches.
      // The reset is tracked at "now", so a reconnect right after it resumes from here.
      after = undefined;
      yield tracked(`${Date.now()}-0`, { type: 'reset' } as OrderChange);
    }
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
          if (event.type === OrderEventType.ORDER_EVENT_TYPE_IMPORTED) {
            // Many orders at once (an import): one reset, answered with a refetch, rather than a flood.
            yield tracked(event.eventId, { type: 'reset' } as OrderChange);
          } else if (type && event.order) {
            const change: OrderChange = { type, order: await this.enrich(ctx, event), count: event.orderCount };
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
