import { fireEvent, screen, waitFor } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { trpc } from '../lib/trpc';
import { apiError, renderPage } from '../test-support';
import Signup from './Signup';

vi.mock('../lib/trpc');
const signup = vi.mocked(trpc.auth.signup.mutate);
const login = vi.mocked(trpc.auth.login.mutate);
const user = { id: 'u1', username: 'bob', email: 'bob@example.com', createdAt: '2026-01-01T00:00:00.000Z' };

function fill(values: { username: string; email: string; password: string }) {
  fireEvent.input(screen.getByLabelText('Username'), { target: { value: values.username } });
  fireEvent.input(screen.getByLabelText('Email'), { target: { value: values.email } });
  fireEvent.input(screen.getByLabelText('Password'), { target: { value: values.password } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
}

describe('Signup page', () => {
  beforeEach(() => {
    signup.mockReset();
    login.mockReset();
  });

  it('shows a taken username under the username field', async () => {
    signup.mockRejectedValue(apiError('CONFLICT', 'username: already taken', 409));
    renderPage(() => <Signup />, { url: '/signup' });
    fill({ username: 'alice', email: 'bob@example.com', password: 'bob-password' });
    const error = await screen.findByText('already taken');
    expect(screen.getByLabelText('Username').getAttribute('aria-describedby')).toContain(error.id);
    expect(screen.getByLabelText('Username').getAttribute('aria-invalid')).toBe('true');
    expect(login).not.toHaveBeenCalled();
  });

  it('signs up, logs in and goes on to the page asked for', async () => {
    signup.mockResolvedValue({ user });
    login.mockResolvedValue({ accessToken: 'token', expiresAt: '2026-01-01T01:00:00.000Z', user });
    const { history } = renderPage(() => <Signup />, { url: '/signup?next=%2Fcustomers' });
    fill({ username: 'Bob', email: 'bob@example.com', password: 'bob-password' });
    await waitFor(() => expect(history.get()).toBe('/customers'));
    expect(signup).toHaveBeenCalledWith({ username: 'bob', email: 'bob@example.com', password: 'bob-password' });
    expect(login).toHaveBeenCalledWith({ username: 'bob', password: 'bob-password' });
  });
});
