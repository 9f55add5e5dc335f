import { fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { trpc } from '../lib/trpc';
import { apiError, makeUser, page, renderPage } from '../test-support';
import Users from './Users';

vi.mock('../lib/trpc');
const list = vi.mocked(trpc.users.list.query);
const invite = vi.mocked(trpc.users.invite.mutate);
const update = vi.mocked(trpc.users.update.mutate);

const admin = makeUser({ username: 'root', role: 'admin' });
const bob = makeUser({ username: 'bob', email: 'bob@example.com', role: 'viewer' });
const CODE = `${'a'.repeat(24)}.${'B'.repeat(43)}`;
const URL = `http://127.0.0.1:8080/signup?invite=${CODE}`;

function setClipboard(writeText: ((text: string) => Promise<void>) | undefined) {
  Object.defineProperty(navigator, 'clipboard', { value: writeText ? { writeText } : undefined, configurable: true });
}

describe('Users page', () => {
  beforeEach(() => {
    list.mockReset();
    invite.mockReset();
    update.mockReset();
    list.mockResolvedValue(page([bob, admin]));
  });
  afterEach(() => setClipboard(undefined));

  it('tells a non-admin that it is for admins only, and asks nothing', async () => {
    renderPage(() => <Users />, { url: '/users', user: makeUser({ role: 'editor' }) });
    expect(screen.getByTestId('admins-only').textContent).toContain('Admins only');
    expect(screen.queryByRole('button', { name: 'Create invite' })).toBeNull();
    expect(list).not.toHaveBeenCalled();
  });

  it('lists the users with their role and state', async () => {
    renderPage(() => <Users />, { url: '/users', user: admin });
    const row = (await screen.findByText('bob@example.com')).closest('tr')!;
    expect((within(row).getByLabelText('Role of bob') as HTMLSelectElement).value).toBe('viewer');
    expect(within(row).getByTestId('user-status').textContent).toBe('Enabled');
    expect(within(row).getByRole('button', { name: 'Disable bob' })).toBeTruthy();
    expect(list).toHaveBeenCalledWith({ limit: 20, cursor: undefined }, expect.anything());
  });

  it('creates an invitation and shows its link, ready to copy', async () => {
    invite.mockResolvedValue({ code: CODE, role: 'editor', email: 'new@example.com', expiresAt: '2026-03-07T10:00:00.000Z', url: URL });
    const writeText = vi.fn(() => Promise.resolve());
    setClipboard(writeText);
    renderPage(() => <Users />, { url: '/users', user: admin });

    fireEvent.change(screen.getByLabelText('Role'), { target: { value: 'editor' } });
    fireEvent.input(screen.getByLabelText('Email (optional)'), { target: { value: ' New@Example.com ' } });
    fireEvent.input(screen.getByLabelText('Expires in hours (optional)'), { target: { value: '48' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create invite' }));

    const link = (await screen.findByLabelText('Invite link')) as HTMLInputElement;
    expect(link.value).toBe(URL);
    expect(link.readOnly).toBe(true);
    expect(invite).toHaveBeenCalledWith({ role: 'editor', email: 'new@example.com', expiresInHours: 48 });

    fireEvent.click(screen.getByRole('button', { name: 'Copy link' }));
    await waitFor(() => expect(screen.getByTestId('copy-status').textContent).toBe('Copied'));
    expect(writeText).toHaveBeenCalledWith(URL);
  });

  it('leaves the link selected to copy by hand where the clipboard cannot be used', async () => {
    invite.mockResolvedValue({ code: CODE, role: 'viewer', expiresAt: '2026-03-07T10:00:00.000Z', url: URL });
    setClipboard(undefined);
    renderPage(() => <Users />, { url: '/users', user: admin });
    fireEvent.click(screen.getByRole('button', { name: 'Create invite' }));
    const link = (await screen.findByLabelText('Invite link')) as HTMLInputElement;
    expect(invite).toHaveBeenCalledWith({ role: 'viewer', email: undefined, expiresInHours: undefined });
    fireEvent.click(screen.getByRole('button', { name: 'Copy link' }));
    expect((await screen.findByTestId('copy-status')).textContent).toContain('copy it with Ctrl+C');
    expect(document.activeElement).toBe(link);
    expect(link.selectionEnd! - link.selectionStart!).toBe(URL.length);
  });

  it('checks the expiry before asking the server', async () => {
    renderPage(() => <Users />, { url: '/users', user: admin });
    const hours = screen.getByLabelText('Expires in hours (optional)');
    fireEvent.input(hours, { target: { value: '721' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create invite' }));
    expect(await screen.findByText('must be 1..720')).toBeTruthy();
    fireEvent.input(hours, { target: { value: 'soon' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create invite' }));
    expect(await screen.findByText('must be a whole number')).toBeTruthy();
    expect(invite).not.toHaveBeenCalled();
  });

  it('changes a role', async () => {
    update.mockImplementation(() => {
      list.mockResolvedValue(page([{ ...bob, role: 'editor' }, admin]));
      return Promise.resolve({ ...bob, role: 'editor' }) as never;
    });
    renderPage(() => <Users />, { url: '/users', user: admin });
    const select = (await screen.findByLabelText('Role of bob')) as HTMLSelectElement;
    fireEvent.change(select, { target: { value: 'editor' } });
    await waitFor(() => expect(update).toHaveBeenCalledWith({ id: bob.id, role: 'editor' }));
    await waitFor(() => expect(select.value).toBe('editor'));
  });

  it("shows the server's refusal to disable the last admin, and puts the row back", async () => {
    update.mockRejectedValue(apiError('CONFLICT', `user ${admin.id} is the last enabled admin; make another admin first`, 409));
    renderPage(() => <Users />, { url: '/users', user: admin });
    fireEvent.click(await screen.findByRole('button', { name: 'Disable root' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      `root was not changed: user ${admin.id} is the last enabled admin; make another admin first`,
    );
    expect(update).toHaveBeenCalledWith({ id: admin.id, disabled: true });
    const row = screen.getByLabelText('Role of root').closest('tr')!;
    await waitFor(() => expect(within(row).getByTestId('user-status').textContent).toBe('Enabled'));
    expect(within(row).getByRole('button', { name: 'Disable root' })).toBeTruthy();
  });
});
