import { createMemoryHistory, MemoryRouter, Route } from '@solidjs/router';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@solidjs/testing-library';
import { QueryClientProvider } from '@tanstack/solid-query';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createQueryClient } from '../lib/query-client';
import { trpc } from '../lib/trpc';
import { apiError, makeUser } from '../test-support';
import { Protected, Shell } from './Layout';

vi.mock('../lib/trpc');

function renderApp(url: string, onPageLoad: () => void = () => {}) {
  const client = createQueryClient();
  const history = createMemoryHistory();
  history.set({ value: url });
  const Customers = () => {
    onPageLoad();
    return <h1>Customers page</h1>;
  };
  render(() => (
    <QueryClientProvider client={client}>
      <MemoryRouter history={history} root={Shell}>
        <Route path="/login" component={() => <h1>Login page</h1>} />
        <Route path="/" component={Protected}>
          <Route path="/customers" component={Customers} />
        </Route>
      </MemoryRouter>
    </QueryClientProvider>
  ));
  return { history, client };
}

describe('the signed-in layout', () => {
  beforeEach(() => {
    vi.mocked(trpc.auth.session.query).mockReset();
    vi.mocked(trpc.orders.onChange.subscribe).mockReset();
    vi.mocked(trpc.orders.onChange.subscribe).mockReturnValue({ unsubscribe: vi.fn() } as never);
  });

  it('shows the user, the live connection and a way out', async () => {
    vi.mocked(trpc.auth.session.query).mockResolvedValue({ user: makeUser({ username: 'alice' }) });
    renderApp('/customers');
    expect(await screen.findByText('alice')).toBeTruthy();
    expect(screen.getByText('Customers page')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Log out' })).toBeTruthy();
    await waitFor(() => expect(trpc.orders.onChange.subscribe).toHaveBeenCalledOnce());
    expect(screen.getByText('Connecting…')).toBeTruthy();
  });

  it('shows the Users link to admins only', async () => {
    vi.mocked(trpc.auth.session.query).mockResolvedValue({ user: makeUser({ username: 'alice', role: 'editor' }) });
    renderApp('/customers');
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    await screen.findByText('alice');
    expect(within(nav).getByRole('link', { name: 'Customers' })).toBeTruthy();
    expect(within(nav).queryByRole('link', { name: 'Users' })).toBeNull();
    cleanup();

    vi.mocked(trpc.auth.session.query).mockResolvedValue({ user: makeUser({ username: 'root', role: 'admin' }) });
    renderApp('/customers');
    await screen.findByText('root');
    const adminNav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(adminNav).getByRole('link', { name: 'Users' }).getAttribute('href')).toBe('/users');
  });

  it('sends a signed-out user to log in, remembering the page, without loading the page first', async () => {
    vi.mocked(trpc.auth.session.query).mockResolvedValue({ user: null });
    const loads = vi.fn();
    const { history } = renderApp('/customers?q=acme', loads);
    await waitFor(() => expect(history.get()).toBe('/login?next=%2Fcustomers%3Fq%3Dacme'));
    expect(await screen.findByText('Login page')).toBeTruthy();
    expect(trpc.orders.onChange.subscribe).not.toHaveBeenCalled();
    expect(loads).not.toHaveBeenCalled();
  });

  it('says so, with a retry, when the session cannot be asked', async () => {
    const unavailable = apiError('SERVICE_UNAVAILABLE', 'auth service unavailable; try again', 503);
    // The query client retries a 503 twice before it gives up.
    for (let i = 0; i < 3; i++) vi.mocked(trpc.auth.session.query).mockRejectedValueOnce(unavailable);
    vi.mocked(trpc.auth.session.query).mockResolvedValue({ user: makeUser({ username: 'alice' }) });
    renderApp('/customers');
    fireEvent.click(await screen.findByRole('button', { name: 'Try again' }, { timeout: 8_000 }));
    expect(await screen.findByText('Customers page')).toBeTruthy();
  });

  it('a session that ends later (any 401) still sends the user to log in', async () => {
    vi.mocked(trpc.auth.session.query).mockRejectedValue(apiError('UNAUTHORIZED', 'token: revoked', 401));
    const { history } = renderApp('/customers');
    await waitFor(() => expect(history.get()).toBe('/login?next=%2Fcustomers'));
  });
});
