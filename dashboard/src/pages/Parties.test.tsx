import { fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
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

describe('Parties page, CSV import and export', () => {
  beforeEach(() => {
    list.mockReset();
    list.mockResolvedValue(page([makeParty({ name: 'Acme Corp' })]));
    vi.mocked(trpc.suppliers.list.query).mockResolvedValue(page([makeParty({ name: 'Globex' })]));
  });

  it('lets a viewer export but not import', async () => {
    renderPage(() => <Parties kind="customers" />, { user: makeUser({ role: 'viewer' }) });
    await screen.findByRole('link', { name: 'Acme Corp' });
    const exportLink = screen.getByRole('link', { name: 'Export CSV' });
    expect(exportLink.getAttribute('href')).toBe('/api/customers/export');
    expect(exportLink.hasAttribute('download')).toBe(true);
    expect(screen.queryByRole('button', { name: 'Import CSV' })).toBeNull();
  });

  it('exports what the search shows: the link carries the current q', async () => {
    renderPage(() => <Parties kind="suppliers" />, { user: makeUser({ role: 'viewer' }) });
    const exportLink = await screen.findByRole('link', { name: 'Export CSV' });
    expect(exportLink.getAttribute('href')).toBe('/api/suppliers/export');
    fireEvent.input(screen.getByLabelText('Search suppliers'), { target: { value: ' A&B Corp ' } });
    await waitFor(() => expect(exportLink.getAttribute('href')).toBe('/api/suppliers/export?q=A%26B+Corp'));
    expect(new URL(exportLink.getAttribute('href')!, 'http://x').searchParams.get('q')).toBe('A&B Corp');
  });

  it('opens the import dialog of the page’s kind for an editor', async () => {
    renderPage(() => <Parties kind="suppliers" />, { user: makeUser({ role: 'editor' }) });
    fireEvent.click(await screen.findByRole('button', { name: 'Import CSV' }));
    const dialog = await screen.findByRole('dialog', { name: 'Import suppliers' });
    expect(within(dialog).getByLabelText('CSV file').getAttribute('type')).toBe('file');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
  });
});
