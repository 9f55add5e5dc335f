import { fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type AuditEntry, trpc } from '../lib/trpc';
import { makeParty, makeUser, page, renderPage } from '../test-support';
import PartyDetail from './PartyDetail';

vi.mock('../lib/trpc');
const byId = vi.mocked(trpc.customers.byId.query);
const update = vi.mocked(trpc.customers.update.mutate);
const history = vi.mocked(trpc.audit.list.query);

const acme = makeParty({ name: 'Acme Corp' });
const entry = (action: AuditEntry['action'], changes: AuditEntry['changes'], id: string): AuditEntry => ({
  id,
  at: '2026-03-05T10:00:00.000Z',
  actor: { id: 'b'.repeat(24), username: 'alice' },
  action,
  entity: 'customer',
  entityId: acme.id,
  changes,
});
const created = entry('created', { name: { to: 'Acme Corp' } }, '1'.repeat(24));

const renderDetail = (role: 'viewer' | 'editor') =>
  renderPage(() => <p>elsewhere</p>, {
    url: `/customers/${acme.id}`,
    routes: { '/customers/:id': () => <PartyDetail kind="customers" /> },
    user: makeUser({ role }),
  });

describe('PartyDetail page', () => {
  beforeEach(() => {
    byId.mockReset();
    update.mockReset();
    history.mockReset();
    byId.mockResolvedValue(acme);
    vi.mocked(trpc.orders.list.query).mockResolvedValue(page([]));
  });

  it('shows a viewer the record and its history, but no edit or delete', async () => {
    history.mockResolvedValue({ items: [created], nextCursor: null });
    renderDetail('viewer');
    expect(await screen.findByRole('heading', { name: 'Acme Corp' })).toBeTruthy();
    const panel = await screen.findByTestId('history');
    expect(await within(panel).findByText('name: — → Acme Corp')).toBeTruthy();
    expect(history).toHaveBeenCalledWith({ entity: 'customer', entityId: acme.id, limit: 20, cursor: undefined }, expect.anything());
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
  });

  it("refreshes the history after an editor's edit, so the new entry shows", async () => {
    const renamed = { ...acme, name: 'Acme Inc', version: 2 };
    const updated = entry('updated', { name: { from: 'Acme Corp', to: 'Acme Inc' } }, '2'.repeat(24));
    history.mockResolvedValue({ items: [created], nextCursor: null });
    update.mockImplementation(() => {
      history.mockResolvedValue({ items: [updated, created], nextCursor: null });
      byId.mockResolvedValue(renamed);
      return Promise.resolve(renamed) as never;
    });
    renderDetail('editor');
    const panel = await screen.findByTestId('history');
    await within(panel).findByText('name: — → Acme Corp');

    fireEvent.click(await screen.findByRole('button', { name: 'Edit' }));
    const dialog = await screen.findByRole('dialog', { name: 'Edit customer' });
    fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'Acme Inc' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));

    expect(await within(panel).findByText('name: Acme Corp → Acme Inc')).toBeTruthy();
    expect(update).toHaveBeenCalledWith(expect.objectContaining({ id: acme.id, name: 'Acme Inc', version: 1 }));
    await waitFor(() => expect(panel.querySelectorAll('li.history-entry')).toHaveLength(2));
  });

  it('exports this customer’s orders', async () => {
    renderDetail('viewer');
    const exportLink = await screen.findByRole('link', { name: 'Export orders' });
    expect(exportLink.getAttribute('href')).toBe(`/api/orders/export?customerId=${acme.id}`);
  });
});
