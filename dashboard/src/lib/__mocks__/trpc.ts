import { vi } from 'vitest';
import type { trpc as real } from '../trpc';

/*
 * The tRPC client for component tests (`vi.mock('../lib/trpc')`): every procedure a vi.fn(), typed
 * as the real client so that `vi.mocked(trpc.orders.list.query).mockResolvedValue(…)` checks the
 * shapes against AppRouter.
 */

const procedure = () => ({
  query: vi.fn(),
  mutate: vi.fn(),
  subscribe: vi.fn(() => ({ unsubscribe: vi.fn() })),
});
const router = <N extends string>(...names: N[]) =>
  Object.fromEntries(names.map((name) => [name, procedure()])) as Record<N, ReturnType<typeof procedure>>;
const party = () => router('list', 'byId', 'create', 'update', 'delete');

export const trpc = {
  auth: router('signup', 'login', 'me', 'session', 'logout'),
  customers: party(),
  suppliers: party(),
  orders: router('list', 'byId', 'create', 'update', 'delete', 'stats', 'onChange'),
  users: router('list', 'invite', 'update'),
  audit: router('list'),
} as unknown as typeof real;
