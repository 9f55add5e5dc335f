import { setTimeout as sleep } from 'node:timers/promises';
import type { AppRouter } from '@pdash/bff';
import { MAX_BATCH_CALLS } from '@pdash/contracts';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
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
        false: httpBatchLink({ url, headers, maxItems: MAX_BATCH_CALLS }),
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

/**
 * Calls `call` again, after a growing pause, while it fails with 503 (a backend missed its deadline
 * or is restarting), up to `attempts` times in all. A 503 does not mean nothing happened: retry a
 * create only with an idempotencyKey, so that the retry returns the first one's record.
 */
export async function retryUnavailable<T>(call: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !(err instanceof TRPCClientError) || err.data?.code !== 'SERVICE_UNAVAILABLE') throw err;
      await sleep(200 * attempt);
    }
  }
}
