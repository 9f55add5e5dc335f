import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { invalidArgument, ServerError, Status } from '@pdash/backend-shared/errors';
import type { Logger } from '@pdash/backend-shared/logger';
import { redisErrors } from '@pdash/backend-shared/metrics';
import type { Redis } from '@pdash/backend-shared/redis';
import { type Order, type OrderEvent, type OrderEventType, orderEventTypeFromJSON } from '@pdash/proto/orders/v1/orders';

/*
 * The order event log is a capped Redis Stream that every orders replica appends to, so event ids
 * (Redis stream ids, `<ms>-<seq>`) increase across replicas and any of them resumes a watcher.
 *
 * - A write appends its event right after MongoDB accepted it. Nothing after that fails the write:
 *   if Redis (or the count of orders the event carries) fails, the event is lost and logged, and a
 *   Redis failure counted (pdash_redis_errors_total{operation="order_event"}).
 * - One reader loop per process blocks on XREAD over a connection of its own and fans each event
 *   out to this process's watchers, so a thousand watchers cost one Redis read.
 * - A watcher that resumes reads what it missed with XRANGE, then takes live events from its
 *   queue, skipping those it already has. If its id is older than the stream's first entry it
 *   simply starts at the first: the stream keeps about the last MAX_EVENTS.
 * - A queue holds at most QUEUE_LIMIT events. A watcher that falls that far behind (a slow client:
 *   gRPC flow control stops it from taking more) is ended with RESOURCE_EXHAUSTED and its queue
 *   dropped; it resumes from its last event id and catches up from the stream. So a slow watcher
 *   neither slows writers nor holds memory without bound.
 * - While Redis is unreachable, Watch fails with UNAVAILABLE and open watches end with it; clients
 *   call again with their last event id once it is back.
 */

export const MAX_EVENTS = 10_000;
export const QUEUE_LIMIT = 1_000;
const READ_BATCH = 500;
/** How long one XREAD waits for new events; the reader connection's command timeout is above it. */
export const READ_BLOCK_MS = 5_000;
/** Pause after a failed read on a connection that is still up. */
const RETRY_MS = 250;
/** How long a watch that arrives while the reader is still starting waits for it. */
const START_WAIT_MS = 1_000;

const EVENT_ID = /^\d{1,15}-\d{1,15}$/;

/** A stream id from a client; INVALID_ARGUMENT when it is not one. */
export function parseEventId(id: string, field = 'afterEventId') {
  if (!EVENT_ID.test(id)) throw invalidArgument(field, 'must be an event id like 1718000000000-0');
  return id;
}

function compareIds(a: string, b: string) {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

type Entry = [id: string, fields: string[]];

/** Appends one event to the log; the id Redis gives the entry is the event id. */
export function appendEvent(redis: Redis, key: string, type: OrderEventType, order: Order, orderCount: number) {
  return redis.xadd(key, 'MAXLEN', '~', MAX_EVENTS, '*', 'type', type, 'order', JSON.stringify(order), 'count', orderCount);
}

/** The event in a stream entry, or undefined for an entry this service did not write. */
function decode([id, pairs]: Entry): OrderEvent | undefined {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < pairs.length; i += 2) fields.set(pairs[i]!, pairs[i + 1]!);
  const order = fields.get('order');
  if (!order) return undefined;
  try {
    return {
      eventId: id,
      type: orderEventTypeFromJSON(fields.get('type')),
      order: JSON.parse(order) as Order,
      orderCount: Number(fields.get('count')),
    };
  } catch {
    return undefined;
  }
}

interface Watcher {
  queue: OrderEvent[];
  /** Set when the watcher must end: its queue overflowed or the reader lost Redis. */
  failure?: ServerError;
  /** Wakes the watcher's stream when it waits for an event. */
  wake?: () => void;
}

const unavailable = () => new ServerError(Status.UNAVAILABLE, 'order events unavailable; watch again with the last event id');

export class OrderEventLog {
  private readonly watchers = new Set<Watcher>();
  /** Id of the last event the reader loop handed to watchers: every later event reaches their queues. */
  private position: string | undefined;
  private readonly closing = new AbortController();
  private readonly reading: Promise<void>;

  constructor(
    private readonly deps: {
      /** Shared connection, for appends and catch-up reads (short command timeout). */
      redis: Redis;
      /** The reader loop's own connection: XREAD blocks it. */
      reader: Redis;
      key: string;
      log: Logger;
      stopping: AbortSignal;
    },
  ) {
    this.reading = this.readLoop();
  }

  /**
   * Appends the event of a change MongoDB already holds; never throws (a lost event is logged,
   * with `request`: the request id and trace id of the call that made the change).
   */
  async publish(type: OrderEventType, order: Order, orderCount: Promise<number>, request: { requestId?: string; traceId?: string } = {}) {
    const { redis, key, log } = this.deps;
    let count: number;
    try {
      count = await orderCount;
    } catch (err) {
      log.warn(
        { ...request, err: err instanceof Error ? err.message : err, orderId: order.id, type },
        'order event not published: orders not counted',
      );
      return;
    }
    try {
      await appendEvent(redis, key, type, order, count);
    } catch (err) {
      redisErrors.inc({ operation: 'order_event' });
      log.warn({ ...request, err: err instanceof Error ? err.message : err, orderId: order.id, type }, 'order event not published');
    }
  }

  /**
   * Every event after `afterEventId` (or after the last one the reader has seen, when absent), in
   * order, until `signal` aborts. `onStart` gets the id the watch starts after, once the watcher is
   * registered: from then on no event can be missed.
   */
  async *watch(afterEventId: string | undefined, signal: AbortSignal, onStart: (after: string) => void): AsyncGenerator<OrderEvent> {
    await this.started();
    const position = this.position;
    if (position === undefined || this.deps.reader.status !== 'ready') throw unavailable();
    const watcher: Watcher = { queue: [] };
    const wake = () => watcher.wake?.();
    this.watchers.add(watcher);
    signal.addEventListener('abort', wake);
    try {
      let last = afterEventId ?? position;
      onStart(last);
      // Events up to `position` were handed out before this watcher joined: read them from the stream.
      for await (const event of this.range(last, position)) {
        if (watcher.failure) throw watcher.failure;
        yield event;
        last = event.eventId;
      }
      while (!signal.aborted) {
        if (watcher.failure) throw watcher.failure;
        const event = watcher.queue.shift();
        if (!event) {
          await new Promise<void>((resolve) => {
            watcher.wake = resolve;
          });
          continue;
        }
        if (compareIds(event.eventId, last) <= 0) continue;
        yield event;
        last = event.eventId;
      }
      if (this.deps.stopping.aborted)
        throw new ServerError(Status.UNAVAILABLE, 'orders service is stopping; watch again with the last event id');
    } finally {
      signal.removeEventListener('abort', wake);
      this.watchers.delete(watcher);
    }
  }

  /** Stops the reader loop and closes its connection. */
  async close() {
    this.closing.abort();
    this.deps.reader.disconnect();
    await this.reading;
  }

  /** Resolves once the reader loop knows where it reads from, or after START_WAIT_MS. */
  private async started() {
    for (const until = Date.now() + START_WAIT_MS; this.position === undefined && Date.now() < until; ) await sleep(10);
  }

  /** Stream entries after `after` up to and including `until`, a batch at a time. */
  private async *range(after: string, until: string) {
    let last = after;
    while (compareIds(last, until) < 0) {
      let entries: Entry[];
      try {
        entries = (await this.deps.redis.xrange(this.deps.key, `(${last}`, until, 'COUNT', READ_BATCH)) as Entry[];
      } catch {
        throw unavailable();
      }
      if (entries.length === 0) return;
      for (const entry of entries) {
        const event = decode(entry);
        if (event) yield event;
      }
      last = entries.at(-1)![0];
    }
  }

  private async readLoop() {
    const { reader, key, log } = this.deps;
    const closing = this.closing.signal;
    while (!closing.aborted) {
      if (reader.status !== 'ready') {
        // Wakes when the connection is ready, or fails to be (an 'error' rejects), or on close.
        await once(reader, 'ready', { signal: closing }).catch(() => {});
        continue;
      }
      try {
        this.position ??= await this.lastId();
        const reply = (await reader.xread('COUNT', READ_BATCH, 'BLOCK', READ_BLOCK_MS, 'STREAMS', key, this.position)) as
          | [key: string, entries: Entry[]][]
          | null;
        for (const entry of reply?.[0]?.[1] ?? []) {
          this.position = entry[0];
          // Decoding is skipped while no one watches: the position is all that matters then.
          const event = this.watchers.size > 0 ? decode(entry) : undefined;
          if (event) this.dispatch(event);
        }
      } catch (err) {
        if (closing.aborted) return;
        if (this.watchers.size > 0) log.warn({ err: err instanceof Error ? err.message : err }, 'order event reader lost redis');
        for (const watcher of this.watchers) this.end(watcher, unavailable());
        await sleep(RETRY_MS);
      }
    }
  }

  /** The newest event id, or 0-0 when the stream is empty: where the reader starts. */
  private async lastId() {
    const [newest] = (await this.deps.reader.xrevrange(this.deps.key, '+', '-', 'COUNT', 1)) as Entry[];
    return newest?.[0] ?? '0-0';
  }

  private dispatch(event: OrderEvent) {
    for (const watcher of this.watchers) {
      if (watcher.queue.length >= QUEUE_LIMIT) {
        this.end(
          watcher,
          new ServerError(Status.RESOURCE_EXHAUSTED, `watcher fell ${QUEUE_LIMIT} events behind; watch again with the last event id`),
        );
        continue;
      }
      watcher.queue.push(event);
      watcher.wake?.();
    }
  }

  private end(watcher: Watcher, failure: ServerError) {
    watcher.failure = failure;
    watcher.queue.length = 0;
    this.watchers.delete(watcher);
    watcher.wake?.();
  }
}
