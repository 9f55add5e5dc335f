import { QueryClient } from '@tanstack/solid-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiError, makeOrder, page } from '../test-support';
import { COALESCE_MS, HIGHLIGHT_MS, startLive } from './live';
import { queries } from './queries';
import { type OrderChange, trpc } from './trpc';

vi.mock('./trpc');
const subscribe = vi.mocked(trpc.orders.onChange.subscribe);

/** What startLive hands to `subscribe` (the callbacks overload of tRPC's client). */
interface Callbacks {
  onData(event: { id: string; data: OrderChange }): void;
  onConnectionStateChange(state: { type: 'state'; state: 'idle' | 'connecting' | 'pending'; error: unknown }): void;
  onError(err: unknown): void;
}
const callbacks = () => subscribe.mock.calls.at(-1)![1] as unknown as Callbacks;
const event = (id: string, data: OrderChange) => ({ id, data });

describe('live order feed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    subscribe.mockReset();
    subscribe.mockReturnValue({ unsubscribe: vi.fn() } as never);
  });
  afterEach(() => vi.useRealTimers());

  it('patches the cached order at once, highlights it, and refreshes everything about orders once per burst', async () => {
    const client = new QueryClient();
    const order = makeOrder({ totalCents: 100 });
    const key = queries.orders({ limit: 20 }).queryKey;
    client.setQueryData(key, page([order]));
    const invalidate = vi.spyOn(client, 'invalidateQueries');
    const live = startLive(client, { onUnauthorized: vi.fn() });

    callbacks().onData(event('1-0', { type: 'updated', order: { ...order, totalCents: 999, version: 2 }, count: 1 }));
    callbacks().onData(event('2-0', { type: 'updated', order: { ...order, totalCents: 1000, version: 3 }, count: 1 }));
    expect(client.getQueryData(key)?.items[0]?.totalCents).toBe(1000);
    expect(live.changeOf(order.id)).toBe('updated');

    // A late, older event does not undo a newer state.
    callbacks().onData(event('0-9', { type: 'updated', order: { ...order, totalCents: 5, version: 1 }, count: 1 }));
    expect(client.getQueryData(key)?.items[0]?.totalCents).toBe(1000);

    vi.advanceTimersByTime(COALESCE_MS);
    expect(invalidate).toHaveBeenCalledOnce();
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ['orders'] });
    vi.advanceTimersByTime(HIGHLIGHT_MS);
    expect(live.changeOf(order.id)).toBeUndefined();

    callbacks().onData(event('3-0', { type: 'deleted', order, count: 0 }));
    expect(client.getQueryData(key)).toEqual(page([], null, 0));
    live.stop();
  });

  it('answers a reset (resumed from too far back) by refetching everything about orders', () => {
    const client = new QueryClient();
    const order = makeOrder({ totalCents: 100 });
    const key = queries.orders({ limit: 20 }).queryKey;
    client.setQueryData(key, page([order]));
    const invalidate = vi.spyOn(client, 'invalidateQueries');
    const live = startLive(client, { onUnauthorized: vi.fn() });
    callbacks().onData(event('1700000000000-0', { type: 'reset' }));
    expect(client.getQueryData(key)?.items[0]).toEqual(order);
    vi.advanceTimersByTime(COALESCE_MS);
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ['orders'] });
    live.stop();
  });

  it('shows the connection: connecting, live, reconnecting (then refreshes), offline', () => {
    const client = new QueryClient();
    const invalidate = vi.spyOn(client, 'invalidateQueries');
    const live = startLive(client, { onUnauthorized: vi.fn() });
    expect(live.status()).toBe('connecting');
    callbacks().onConnectionStateChange({ type: 'state', state: 'pending', error: null });
    expect(live.status()).toBe('live');
    callbacks().onConnectionStateChange({
      type: 'state',
      state: 'connecting',
      error: apiError('SERVICE_UNAVAILABLE', 'replica stopping', 503),
    });
    expect(live.status()).toBe('reconnecting');
    callbacks().onConnectionStateChange({ type: 'state', state: 'pending', error: null });
    expect(live.status()).toBe('live');
    vi.advanceTimersByTime(COALESCE_MS);
    expect(invalidate).toHaveBeenCalledWith({ queryKey: ['orders'] });
    callbacks().onConnectionStateChange({ type: 'state', state: 'idle', error: null });
    expect(live.status()).toBe('offline');
  });

  it('sends an expired session to log in; after any other failure subscribes again from the last event', () => {
    const onUnauthorized = vi.fn();
    const live = startLive(new QueryClient(), { onUnauthorized });
    callbacks().onData(event('7-1', { type: 'created', order: makeOrder(), count: 1 }));
    callbacks().onError(apiError('BAD_REQUEST', 'something odd', 400));
    expect(onUnauthorized).not.toHaveBeenCalled();
    vi.advanceTimersByTime(3000);
    expect(subscribe).toHaveBeenCalledTimes(2);
    expect(subscribe.mock.calls[1]![0]).toEqual({ lastEventId: '7-1' });

    callbacks().onError(apiError('UNAUTHORIZED', 'token: expired; log in again', 401));
    expect(onUnauthorized).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(10_000);
    expect(subscribe).toHaveBeenCalledTimes(2);
    live.stop();
  });
});
