import type { AuditEntity } from '@pdash/contracts';
import { infiniteQueryOptions, type QueryClient, queryOptions } from '@tanstack/solid-query';
import {
  type Order,
  type OrderFilter,
  type OrderPage,
  type OrdersListInput,
  type PartiesListInput,
  type PartyKind,
  type RecordKind,
  trpc,
  type UsersListInput,
} from './trpc';

/*
 * Every query of the dashboard: its cache key and how it is fetched. Keys start with the router's
 * name, so one live order event can refresh everything about orders with the prefix ['orders'].
 */

export const PAGE_SIZE = 20;
export const HISTORY_PAGE_SIZE = 20;

/** What the history (audit.list) calls the records of each router. */
const AUDIT_ENTITY: Record<RecordKind, AuditEntity> = { customers: 'customer', suppliers: 'supplier', orders: 'order' };

export const queries = {
  /** Who is signed in (user or null): always 200, so a signed-out first load logs no error. */
  session: () => queryOptions({ queryKey: ['auth', 'session'], queryFn: () => trpc.auth.session.query(), staleTime: 60_000 }),

  orders: (input: OrdersListInput) =>
    queryOptions({ queryKey: ['orders', 'list', input], queryFn: ({ signal }) => trpc.orders.list.query(input, { signal }) }),

  order: (id: string) =>
    queryOptions({ queryKey: ['orders', 'byId', id], queryFn: ({ signal }) => trpc.orders.byId.query({ id }, { signal }) }),

  stats: (days: number) =>
    queryOptions({ queryKey: ['orders', 'stats', days], queryFn: ({ signal }) => trpc.orders.stats.query({ days }, { signal }) }),

  /** The count and sum of a customer's or supplier's orders, read page by page (at most MAX_SUM_PAGES). */
  orderTotals: (filter: OrderFilter) =>
    queryOptions({
      queryKey: ['orders', 'totals', filter],
      queryFn: async ({ signal }) => {
        let sumCents = 0;
        let count = 0;
        let cursor: string | undefined;
        for (let page = 0; page < MAX_SUM_PAGES; page++) {
          const result: OrderPage = await trpc.orders.list.query({ ...filter, limit: 100, cursor }, { signal });
          for (const order of result.items) sumCents += order.totalCents;
          count = result.total;
          if (!result.nextCursor) return { count, sumCents, complete: true };
          cursor = result.nextCursor;
        }
        return { count, sumCents, complete: false };
      },
    }),

  parties: (kind: PartyKind, input: PartiesListInput) =>
    queryOptions({ queryKey: [kind, 'list', input], queryFn: ({ signal }) => trpc[kind].list.query(input, { signal }) }),

  party: (kind: PartyKind, id: string) =>
    queryOptions({ queryKey: [kind, 'byId', id], queryFn: ({ signal }) => trpc[kind].byId.query({ id }, { signal }) }),

  /**
   * One record's history, newest first, a page more with each "Older". Keyed under the record's
   * router, not ['audit']: whatever refreshes the record (an edit, a live order event) refreshes its
   * history too, so a new entry shows without a second invalidation to remember.
   */
  history: (kind: RecordKind, id: string) =>
    infiniteQueryOptions({
      queryKey: [kind, 'history', id],
      queryFn: ({ pageParam, signal }) =>
        trpc.audit.list.query({ entity: AUDIT_ENTITY[kind], entityId: id, limit: HISTORY_PAGE_SIZE, cursor: pageParam }, { signal }),
      initialPageParam: undefined as string | undefined,
      getNextPageParam: (last) => last.nextCursor ?? undefined,
    }),

  users: (input: UsersListInput) =>
    queryOptions({ queryKey: ['users', 'list', input], queryFn: ({ signal }) => trpc.users.list.query(input, { signal }) }),
};

export const MAX_SUM_PAGES = 20;

/** The first page of the orders table, as the home route prefetches it (same key as the table's). */
export const firstOrdersPage = () => queries.orders({ limit: PAGE_SIZE });

/*
 * Cache edits for optimistic updates and live events: a snapshot to roll back to, and changes to
 * every cached page of orders.
 */

export type Snapshot = ReturnType<QueryClient['getQueriesData']>;

export async function snapshot(client: QueryClient, queryKey: readonly unknown[]): Promise<Snapshot> {
  await client.cancelQueries({ queryKey });
  return client.getQueriesData({ queryKey });
}

export function restore(client: QueryClient, saved: Snapshot | undefined) {
  for (const [key, data] of saved ?? []) client.setQueryData(key, data);
}

/**
 * Replaces (`order`) or removes (`null`) an order in every cached list page and its byId entry. A
 * replacement older than what is cached (a late event) is ignored.
 */
export function patchOrder(client: QueryClient, id: string, order: Order | null) {
  client.setQueriesData<OrderPage>({ queryKey: ['orders', 'list'] }, (page) => {
    if (!page?.items.some((item) => item.id === id)) return page;
    const items = order
      ? page.items.map((item) => (item.id === id && item.version <= order.version ? order : item))
      : page.items.filter((item) => item.id !== id);
    return { ...page, items, total: order ? page.total : page.total - 1 };
  });
  if (order) client.setQueryData<Order>(['orders', 'byId', id], (cached) => (cached && cached.version > order.version ? cached : order));
  else client.removeQueries({ queryKey: ['orders', 'byId', id] });
}

/**
 * A query's data, or undefined while it first loads. (Reading solid-query's `data` while pending
 * suspends the nearest <Suspense>; the pages show their own skeletons instead.)
 */
export const loaded = <T>(query: { isPending: boolean; data: T | undefined }): T | undefined => (query.isPending ? undefined : query.data);
