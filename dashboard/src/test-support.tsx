import { createMemoryHistory, MemoryRouter, Route } from '@solidjs/router';
import { render } from '@solidjs/testing-library';
import { QueryClientProvider } from '@tanstack/solid-query';
import { TRPCClientError } from '@trpc/client';
import type { JSX } from 'solid-js';
import { UserContext } from './lib/access';
import type { ErrorCode } from './lib/errors';
import { createQueryClient } from './lib/query-client';
import type { Order, Party, User } from './lib/trpc';

/** The error the tRPC client raises for an answer of the BFF (its errorFormatter's shape). */
export function apiError(code: ErrorCode, message: string, httpStatus = 400) {
  return TRPCClientError.from({ error: { message, code: -32000, data: { code, httpStatus } } });
}

/**
 * Renders `ui` at `url` inside what the app gives every page: a query client (the app's own, with
 * its 401 handling), a router whose history the test can read, and the signed-in `user` (by
 * default an editor; `null` for nobody).
 */
export function renderPage(
  ui: () => JSX.Element,
  options: { url?: string; routes?: Record<string, () => JSX.Element>; user?: User | null } = {},
) {
  const user = options.user === undefined ? makeUser({ role: 'editor' }) : (options.user ?? undefined);
  const client = createQueryClient();
  client.setDefaultOptions({ ...client.getDefaultOptions(), queries: { ...client.getDefaultOptions().queries, retry: false } });
  const history = createMemoryHistory();
  history.set({ value: options.url ?? '/' });
  const result = render(() => (
    <QueryClientProvider client={client}>
      <UserContext.Provider value={() => user}>
        <MemoryRouter history={history}>
          <Route path="*" component={ui} />
          {Object.entries(options.routes ?? {}).map(([path, component]) => (
            <Route path={path} component={component} />
          ))}
        </MemoryRouter>
      </UserContext.Provider>
    </QueryClientProvider>
  ));
  return { ...result, client, history };
}

let counter = 0;
const id = () => (++counter).toString(16).padStart(24, '0');

export function makeParty(fields: Partial<Party> = {}): Party {
  return {
    id: id(),
    name: 'Acme Corp',
    createdAt: '2026-03-05T10:00:00.000Z',
    updatedAt: '2026-03-05T10:00:00.000Z',
    version: 1,
    ...fields,
  };
}

export function makeUser(fields: Partial<User> = {}): User {
  return {
    id: id(),
    username: 'alice',
    email: 'alice@example.com',
    role: 'viewer',
    disabled: false,
    createdAt: '2026-03-05T10:00:00.000Z',
    ...fields,
  };
}

export function makeOrder(fields: Partial<Order> = {}): Order {
  return {
    id: id(),
    customerId: id(),
    supplierId: id(),
    customerName: 'Acme Corp',
    supplierName: 'Globex Supplies',
    totalCents: 12345,
    createdAt: '2026-03-05T10:00:00.000Z',
    updatedAt: '2026-03-05T10:00:00.000Z',
    version: 1,
    ...fields,
  };
}

export const page = <T,>(items: T[], nextCursor: string | null = null, total = items.length) => ({ items, nextCursor, total });
