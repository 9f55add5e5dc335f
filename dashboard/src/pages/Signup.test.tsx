import { fireEvent, screen, waitFor } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { trpc } from '../lib/trpc';
import { apiError, makeUser, renderPage } from '../test-support';
import Signup from './Signup';

vi.mock('../lib/trpc');
const signup = vi.mocked(trpc.auth.signup.mutate);
const login = vi.mocked(trpc.auth.login.mutate);
const user = makeUser({ username: 'bob', email: 'bob@example.com' });

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

  it('sends the invitation code of the link it was opened with', async () => {
    const code = `${'a'.repeat(24)}.${'B'.repeat(43)}`;
    signup.mockResolvedValue({ user: { ...user, role: 'editor' } });
    login.mockResolvedValue({ accessToken: 'token', expiresAt: '2026-01-01T01:00:00.000Z', user: { ...user, role: 'editor' } });
    const { history } = renderPage(() => <Signup />, { url: `/signup?invite=${encodeURIComponent(code)}` });
    expect(screen.getByTestId('invite-notice')).toBeTruthy();
    fill({ username: 'bob', email: 'bob@example.com', password: 'bob-password' });
    await waitFor(() => expect(history.get()).toBe('/'));
    expect(signup).toHaveBeenCalledWith({ username: 'bob', email: 'bob@example.com', password: 'bob-password', inviteCode: code });
  });

  it('says in plain words that sign-up needs an invitation when the server asks for one', async () => {
    signup.mockRejectedValue(apiError('FORBIDDEN', 'inviteCode: required; sign-up is by invitation (ask an admin)', 403));
    renderPage(() => <Signup />, { url: '/signup' });
    expect(screen.queryByTestId('invite-notice')).toBeNull();
    fill({ username: 'bob', email: 'bob@example.com', password: 'bob-password' });
    expect((await screen.findByRole('alert')).textContent).toMatch(/^Sign-up needs an invitation\. Ask an admin/);
    expect(signup.mock.calls[0]![0]).not.toHaveProperty('inviteCode');
    expect(login).not.toHaveBeenCalled();
  });

  it('says when the invitation of the link is used up or expired', async () => {
    signup.mockRejectedValue(apiError('FORBIDDEN', 'inviteCode: invalid, already used or expired; ask an admin for a new invitation', 403));
    renderPage(() => <Signup />, { url: `/signup?invite=${'c'.repeat(24)}.${'D'.repeat(43)}` });
    fill({ username: 'bob', email: 'bob@example.com', password: 'bob-password' });
    expect((await screen.findByRole('alert')).textContent).toContain('Sign-up needs an invitation, and this one is not valid');
  });
});
