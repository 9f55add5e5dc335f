import { A, type RouteSectionProps, useLocation, useNavigate } from '@solidjs/router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/solid-query';
import { createContext, createEffect, createSignal, on, onCleanup, Show, Suspense, untrack, useContext } from 'solid-js';
import { UserContext, useAllows } from '../lib/access';
import { type Live, type LiveStatus, startLive } from '../lib/live';
import { loaded, queries } from '../lib/queries';
import { handleUnauthorized, loginPath, setUnauthorizedHandler } from '../lib/session';
import { trpc } from '../lib/trpc';
import { BlockSkeleton, LoadError } from './States';
import { Toasts } from './Toasts';

/** The router's root: sends a signed-out user to the login page (and remembers where they were going). */
export function Shell(props: RouteSectionProps) {
  const navigate = useNavigate();
  const location = useLocation();
  let redirecting = false;
  createEffect(
    on(
      () => location.pathname,
      () => {
        redirecting = false;
      },
    ),
  );
  setUnauthorizedHandler(() => {
    const here = untrack(() => location.pathname + location.search);
    if (redirecting || /^\/(login|signup)\b/.test(here)) return;
    redirecting = true;
    navigate(loginPath(here), { replace: true });
  });
  return (
    <>
      {props.children}
      <Toasts />
    </>
  );
}

/** What the pages see of the live feed: the connection, and which orders just changed. */
export interface LiveView {
  status: () => LiveStatus;
  changeOf: Live['changeOf'];
}

export const LiveContext = createContext<LiveView>({ status: (): LiveStatus => 'offline', changeOf: () => undefined });
export const useLive = () => useContext(LiveContext);

/**
 * The signed-in part of the app: header, live feed, and the page. The session comes first
 * (`auth.session`, always 200): someone signed out goes to the login page without a single 401,
 * and the page's own requests start only for someone signed in. The user, with their role, is
 * provided to every page (lib/access.ts).
 */
export function Protected(props: RouteSectionProps) {
  const client = useQueryClient();
  const session = useQuery(() => queries.session());
  const user = () => loaded(session)?.user ?? undefined;
  const [live, setLive] = createSignal<Live>();

  createEffect(() => {
    if (loaded(session)?.user === null) handleUnauthorized();
  });
  // The feed starts once the session is known to be good, and stops with it.
  createEffect(() => {
    if (!user() || untrack(live)) return;
    setLive(startLive(client, { onUnauthorized: handleUnauthorized }));
  });
  onCleanup(() => live()?.stop());

  const view: LiveView = {
    status: () => live()?.status() ?? 'connecting',
    changeOf: (id) => live()?.changeOf(id),
  };

  return (
    <UserContext.Provider value={user}>
      <LiveContext.Provider value={view}>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <Header username={user()?.username} onLogout={() => live()?.stop()} />
        <main id="main" tabIndex={-1}>
          <Show
            when={user()}
            fallback={
              // A session that could not be asked (the service unavailable) says so, with a way to try again.
              <Show when={session.isError} fallback={<BlockSkeleton label="page" height="16rem" />}>
                <LoadError message="Could not reach pdash to check your session." onRetry={() => void session.refetch()} />
              </Show>
            }
          >
            <Suspense fallback={<BlockSkeleton label="page" height="16rem" />}>{props.children}</Suspense>
          </Show>
        </main>
      </LiveContext.Provider>
    </UserContext.Provider>
  );
}

const STATUS_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

function Header(props: { username: string | undefined; onLogout: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const live = useLive();
  const isAdmin = useAllows('admin');
  const logout = useMutation(() => ({
    mutationFn: () => trpc.auth.logout.mutate(),
    // Gone already or not: either way the user ends up signed out, on the login page.
    meta: { redirectOn401: false },
    onSettled: () => {
      props.onLogout();
      client.clear();
      navigate('/login', { replace: true });
    },
  }));

  return (
    <header class="app-header">
      <A href="/" class="brand" end>
        pdash
      </A>
      <nav aria-label="Main">
        <A href="/" end>
          Orders
        </A>
        <A href="/customers">Customers</A>
        <A href="/suppliers">Suppliers</A>
        <A href="/stats">Stats</A>
        <Show when={isAdmin()}>
          <A href="/users">Users</A>
        </Show>
      </nav>
      <div class="session">
        <span class={`live-status ${live.status()}`} role="status" title="Live order updates" data-status={live.status()}>
          <span class="dot" aria-hidden="true" />
          {STATUS_TEXT[live.status()]}
        </span>
        <Show when={props.username} fallback={<span class="skeleton user-skeleton" aria-hidden="true" />}>
          <span class="user" title="Signed in as">
            {props.username}
          </span>
        </Show>
        <button type="button" class="secondary" disabled={logout.isPending} onClick={() => logout.mutate()}>
          Log out
        </button>
      </div>
    </header>
  );
}
