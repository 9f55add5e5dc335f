import type { AppRouter } from '@pdash/bff';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { EventSource } from 'eventsource';

/**
 * The typed tRPC client the scripts use (CLI, seeding, stack start-up): HTTP batching for queries
 * and mutations, SSE for subscriptions, a bearer token on both.
 */
export function createClient(baseUrl: string, getToken: () => string | undefined = () => undefined) {
  const url = `${baseUrl.replace(/\/$/, '')}/trpc`;
  const headers = () => {
    const token = getToken();
    return token ? { Authorization: `Bearer ${token}` } : {};
  };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        // EventSource sends no headers: the token travels as a connection parameter.
        true: httpSubscriptionLink({ url, EventSource, connectionParams: () => ({ token: getToken() ?? '' }) }),
        false: httpBatchLink({ url, headers, maxItems: 20 }),
      }),
    ],
  });
}

export type PdashClient = ReturnType<typeof createClient>;

/** Runs `task` over `items` with at most `concurrency` in flight; `onDone` after each. */
export async function inBatches<T, R>(items: T[], concurrency: number, task: (item: T, index: number) => Promise<R>, onDone?: () => void) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
        onDone?.();
      }
    }),
  );
  return results;
}
