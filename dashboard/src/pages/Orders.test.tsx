import { fireEvent, screen, within } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { trpc } from '../lib/trpc';
import { makeOrder, makeParty, makeUser, page, renderPage } from '../test-support';
import Orders from './Orders';

vi.mock('../lib/trpc');
const list = vi.mocked(trpc.orders.list.query);

describe('Orders page, by role', () => {
  beforeEach(() => {
    list.mockReset();
    vi.mocked(trpc.orders.stats.query).mockResolvedValue({ count: 1, revenueCents: 12345, byDay: [], bySupplier: [] });
  });

  it('shows a viewer the orders and their pages, but no way to create, edit or delete', async () => {
    const order = makeOrder({ customerName: 'Acme Corp' });
    list.mockResolvedValue(page([order]));
    renderPage(() => <Orders />, { user: makeUser({ role: 'viewer' }) });
    const row = (await screen.findByRole('link', { name: 'Acme Corp' })).closest('tr')!;
    expect(
      within(row)
        .getByRole('link', { name: /^Details of order: Acme Corp/ })
        .getAttribute('href'),
    ).toBe(`/orders/${order.id}`);
    expect(within(row).queryByRole('button', { name: /^Edit order/ })).toBeNull();
    expect(within(row).queryByRole('button', { name: /^Delete order/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'New order' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Import CSV' })).toBeNull();
    expect(screen.getByRole('link', { name: 'Export CSV' }).getAttribute('href')).toBe('/api/orders/export');
  });

  it('gives an editor the create, edit and delete controls', async () => {
    list.mockResolvedValue(page([makeOrder({ customerName: 'Acme Corp' })]));
    renderPage(() => <Orders />, { user: makeUser({ role: 'editor' }) });
    const row = (await screen.findByRole('link', { name: 'Acme Corp' })).closest('tr')!;
    expect(within(row).getByRole('button', { name: /^Edit order: Acme Corp/ })).toBeTruthy();
    expect(within(row).getByRole('button', { name: /^Delete order: Acme Corp/ })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'New order' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Import CSV' }));
    expect(await screen.findByRole('dialog', { name: 'Import orders' })).toBeTruthy();
  });

  it('exports the orders of the customer the page is filtered by', async () => {
    const acme = makeParty({ name: 'Acme Corp' });
    list.mockResolvedValue(page([makeOrder()]));
    vi.mocked(trpc.customers.list.query).mockResolvedValue(page([acme]));
    renderPage(() => <Orders />, { user: makeUser({ role: 'viewer' }) });
    const exportLink = await screen.findByRole('link', { name: 'Export CSV' });
    fireEvent.click(screen.getByRole('combobox', { name: 'Customer' }));
    fireEvent.mouseDown(await screen.findByRole('option', { name: 'Acme Corp' }));
    expect(exportLink.getAttribute('href')).toBe(`/api/orders/export?customerId=${acme.id}`);
  });

  it('offers a viewer no "create the first order" on an empty list', async () => {
    list.mockResolvedValue(page([]));
    renderPage(() => <Orders />, { user: makeUser({ role: 'viewer' }) });
    expect(await screen.findByText('No orders yet.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Create the first order' })).toBeNull();
  });
});
