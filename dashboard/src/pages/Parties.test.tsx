import { screen, within } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { trpc } from '../lib/trpc';
import { makeParty, makeUser, page, renderPage } from '../test-support';
import Parties from './Parties';

vi.mock('../lib/trpc');
const list = vi.mocked(trpc.customers.list.query);

describe('Parties page, by role', () => {
  beforeEach(() => list.mockReset());

  it('shows a viewer the customers without create, edit or delete', async () => {
    list.mockResolvedValue(page([makeParty({ name: 'Acme Corp' })]));
    renderPage(() => <Parties kind="customers" />, { user: makeUser({ role: 'viewer' }) });
    const row = (await screen.findByRole('link', { name: 'Acme Corp' })).closest('tr')!;
    expect(within(row).queryByRole('button')).toBeNull();
    expect(screen.queryByRole('button', { name: 'New customer' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Edit Acme Corp' })).toBeNull();
  });

  it('gives an admin every control', async () => {
    list.mockResolvedValue(page([makeParty({ name: 'Acme Corp' })]));
    renderPage(() => <Parties kind="customers" />, { user: makeUser({ role: 'admin' }) });
    expect(await screen.findByRole('button', { name: 'Edit Acme Corp' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Delete Acme Corp' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'New customer' })).toBeTruthy();
  });

  it('offers a viewer no "create the first" on an empty list', async () => {
    list.mockResolvedValue(page([]));
    renderPage(() => <Parties kind="customers" />, { user: makeUser({ role: 'viewer' }) });
    expect(await screen.findByText('No customers yet.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Create the first customer' })).toBeNull();
  });
});
