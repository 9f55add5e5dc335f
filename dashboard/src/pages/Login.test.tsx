import { fireEvent, screen, waitFor } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { trpc } from '../lib/trpc';
import { apiError, makeUser, renderPage } from '../test-support';
import Login from './Login';

vi.mock('../lib/trpc');
const login = vi.mocked(trpc.auth.login.mutate);

const user = makeUser({ username: 'alice', email: 'alice@example.com' });

function fill(username: string, password: string) {
  fireEvent.input(screen.getByLabelText('Username or email'), { target: { value: username } });
  fireEvent.input(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
}

describe('Login page', () => {
  beforeEach(() => {
    login.mockReset();
  });

  it('checks the fields before sending anything', async () => {
    renderPage(() => <Login />, { url: '/login' });
    fill('', '');
    expect(await screen.findAllByText('must not be empty')).toHaveLength(2);
    expect(login).not.toHaveBeenCalled();
  });

  it('shows a wrong password inline, and stays on the page', async () => {
    login.mockRejectedValue(apiError('UNAUTHORIZED', 'invalid username or password', 401));
    const { history } = renderPage(() => <Login />, { url: '/login?next=%2Fstats' });
    fill('alice', 'wrong');
    expect((await screen.findByRole('alert')).textContent).toContain('invalid username or password');
    expect(history.get()).toBe('/login?next=%2Fstats');
  });

  it('shows "too many attempts" with the server\'s wait', async () => {
    login.mockRejectedValue(apiError('TOO_MANY_REQUESTS', 'too many login attempts; retry in 42 s', 429));
    renderPage(() => <Login />, { url: '/login' });
    fill('alice', 'wrong');
    expect((await screen.findByRole('alert')).textContent).toContain('too many login attempts; retry in 42 s');
  });

  it('disables the button while logging in, then goes where the user was going', async () => {
    let resolve!: (value: Awaited<ReturnType<typeof login>>) => void;
    login.mockReturnValue(new Promise((r) => (resolve = r)) as never);
    const { history, client } = renderPage(() => <Login />, { url: '/login?next=%2Fcustomers%3Fq%3Dacme' });
    fill('alice', 'alice-password');
    const button = await screen.findByRole('button', { name: 'Logging in…' });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    resolve({ accessToken: 'token', expiresAt: '2026-01-01T01:00:00.000Z', user });
    await waitFor(() => expect(history.get()).toBe('/customers?q=acme'));
    expect(login).toHaveBeenCalledWith({ username: 'alice', password: 'alice-password' });
    expect(client.getQueryData(['auth', 'session'])).toEqual({ user });
  });

  it('never follows a `next` to another site', async () => {
    login.mockResolvedValue({ accessToken: 'token', expiresAt: '2026-01-01T01:00:00.000Z', user });
    const { history } = renderPage(() => <Login />, { url: `/login?next=${encodeURIComponent('//evil.example/x')}` });
    fill('alice', 'alice-password');
    await waitFor(() => expect(history.get()).toBe('/'));
  });
});
