import type { QueryClient } from '@tanstack/solid-query';
import { createSignal } from 'solid-js';
import { isUnauthorized } from './errors';
import { patchOrder } from './queries';
import { type OrderChange, trpc } from './trpc';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';
/** An event about one order (not a `reset`). */
type OrderEvent = Extract<OrderChange, { order: unknown }>;
type OrderChangeType = OrderEvent['type'];

/** How long a changed row stays highlighted. */
export const HIGHLIGHT_MS = 2500;
/** Events are gathered this long before one refetch: a burst of changes costs one round of requests. */
export const COALESCE_MS = 100;
const RESTART_MS = 3000;

/**
 * The live feed of order changes (orders.onChange over SSE). Each event patches the cached order at
 * once and, within COALESCE_MS, refreshes every active query about orders (tables, counts, stats,
 * totals). When the connection drops (a BFF replica restarting), httpSubscriptionLink reconnects
 * with the last event id and the BFF replays what was missed, so no event is lost.
 */
export function startLive(client: QueryClient, options: { onUnauthorized: () => void }) {
  const [status, setStatus] = createSignal<LiveStatus>('connecting');
  const [changed, setChanged] = createSignal<ReadonlyMap<string, OrderChangeType>>(new Map());
  let refresh: ReturnType<typeof setTimeout> | undefined;
  let restart: ReturnType<typeof setTimeout> | undefined;
  let subscription: { unsubscribe(): void } | undefined;
  let stopped = false;
  let lastEventId: string | undefined;

  const highlight = (change: OrderEvent) => {
    const id = change.order.id;
    setChanged((all) => new Map(all).set(id, change.type));
    setTimeout(() => {
      setChanged((all) => {
        const next = new Map(all);
        next.delete(id);
        return next;
      });
    }, HIGHLIGHT_MS);
  };

  const scheduleRefresh = () => {
    refresh ??= setTimeout(() => {
      refresh = undefined;
      void client.invalidateQueries({ queryKey: ['orders'] });
    }, COALESCE_MS);
  };

  const apply = (change: OrderChange) => {
    // Asked to resume from too far back: the feed starts afresh and every order table refetches.
    if (change.type === 'reset') return scheduleRefresh();
    patchOrder(client, change.order.id, change.type === 'deleted' ? null : change.order);
    highlight(change);
    scheduleRefresh();
  };

  const subscribe = () => {
    subscription = trpc.orders.onChange.subscribe(lastEventId ? { lastEventId } : undefined, {
      onData: (event) => {
        lastEventId = event.id;
        apply(event.data);
      },
      onConnectionStateChange: (state) => {
        // Back after a drop: the missed events are replayed from the last event id, but a stream that
        // dropped before its first event had no id to resume from, so refresh the tables as well.
        if (state.state === 'pending' && status() === 'reconnecting') scheduleRefresh();
        if (state.state === 'pending') setStatus('live');
        else if (state.state === 'connecting') setStatus(state.error ? 'reconnecting' : 'connecting');
        else setStatus('offline');
      },
      onError: (err) => {
        setStatus('offline');
        if (isUnauthorized(err)) return options.onUnauthorized();
        // Not one the link retries by itself: start over after a pause, from the last event seen.
        if (!stopped) restart = setTimeout(subscribe, RESTART_MS);
      },
    });
  };
  subscribe();

  return {
    status,
    /** The kind of change an order had in the last HIGHLIGHT_MS, if any (for its row's highlight). */
    changeOf: (id: string) => changed().get(id),
    stop() {
      stopped = true;
      clearTimeout(refresh);
      clearTimeout(restart);
      subscription?.unsubscribe();
    },
  };
}

export type Live = ReturnType<typeof startLive>;
