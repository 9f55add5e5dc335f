import { MutationCache, QueryCache, QueryClient } from '@tanstack/solid-query';
import { errorCode, isTransient, isUnauthorized } from './errors';
import { handleUnauthorized } from './session';

export function createQueryClient() {
  // A 403 may mean the user's role was lowered meanwhile: ask the session again, so the pages hide
  // what the role no longer allows.
  const onForbidden = (err: unknown) => {
    if (errorCode(err) === 'FORBIDDEN') void client.invalidateQueries({ queryKey: ['auth', 'session'] });
  };
  const client: QueryClient = new QueryClient({
    // Any 401 means the session is gone (expired, revoked, logged out elsewhere): to the login page.
    queryCache: new QueryCache({
      onError: (err) => {
        if (isUnauthorized(err)) handleUnauthorized();
        onForbidden(err);
      },
    }),
    mutationCache: new MutationCache({
      // `meta: { redirectOn401: false }`: the login form, where a 401 means a wrong password.
      onError: (err, _variables, _context, mutation) => {
        if (isUnauthorized(err) && mutation.meta?.redirectOn401 !== false) handleUnauthorized();
        onForbidden(err);
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        // A 4xx will not get better by asking again; a dropped connection or a 503 may.
        retry: (failures, err) => failures < 2 && isTransient(err),
        // Keep row objects whose id did not change, so a refresh re-renders only what changed.
        reconcile: 'id',
      },
      mutations: { retry: false },
    },
  });
  return client;
}
