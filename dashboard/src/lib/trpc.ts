import type { AppRouter } from '@pdash/bff';
import { MAX_BATCH_CALLS } from '@pdash/contracts';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';

/*
 * The one client of the BFF. Same origin, so the httpOnly session cookie that auth.login sets goes
 * with every request (and with the EventSource of subscriptions): no token is ever held in JS.
 * Every type below is inferred from the BFF's AppRouter (a type-only import); none is written by hand.
 */

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type User = RouterOutputs['auth']['me'];
export type Order = RouterOutputs['orders']['byId'];
export type OrderPage = RouterOutputs['orders']['list'];
/** A list procedure's input without its optional-ness (the procedures take `input?`). */
type ListInput<P extends { list: unknown }> = Extract<P['list'], object>;
export type OrdersListInput = ListInput<RouterInputs['orders']>;
export type PartiesListInput = ListInput<RouterInputs['customers']>;
export type OrderFilter = Pick<OrdersListInput, 'customerId' | 'supplierId'>;
export type Stats = RouterOutputs['orders']['stats'];
export type Party = RouterOutputs['customers']['byId'];
export type PartyPage = RouterOutputs['customers']['list'];
export type UserPage = RouterOutputs['users']['list'];
export type UsersListInput = ListInput<RouterInputs['users']>;
export type Invite = RouterOutputs['users']['invite'];
export type AuditPage = RouterOutputs['audit']['list'];
export type AuditEntry = AuditPage['items'][number];
export type { OrderChange } from '@pdash/bff';

/** Customers and suppliers have the same procedures and records (the BFF's one party router). */
export type PartyKind = 'customers' | 'suppliers';
/** The records that have a History panel, named by their router. */
export type RecordKind = PartyKind | 'orders';

export const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      // Tracked events: on reconnect the link sends the last event id, so nothing is missed.
      true: httpSubscriptionLink({ url: '/trpc' }),
      false: httpBatchLink({ url: '/trpc', maxURLLength: 4000, maxItems: MAX_BATCH_CALLS }),
    }),
  ],
});
