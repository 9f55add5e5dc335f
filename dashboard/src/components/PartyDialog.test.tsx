import { fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { queries } from '../lib/queries';
import { trpc } from '../lib/trpc';
import { apiError, makeParty, page, renderPage } from '../test-support';
import { DeletePartyDialog, PartyDialog } from './PartyDialog';

vi.mock('../lib/trpc');
const remove = vi.mocked(trpc.customers.delete.mutate);
const create = vi.mocked(trpc.suppliers.create.mutate);

describe('customer and supplier dialogs', () => {
  beforeEach(() => {
    remove.mockReset();
    create.mockReset();
  });

  it("shows the server's refusal to delete a customer that has orders, and keeps it listed", async () => {
    const acme = makeParty({ name: 'Acme Corp' });
    remove.mockRejectedValue(apiError('CONFLICT', `customer ${acme.id} still has 3 orders`, 409));
    const { client } = renderPage(() => <DeletePartyDialog kind="customers" party={acme} onClose={() => {}} />);
    const listKey = queries.parties('customers', { limit: 20 }).queryKey;
    client.setQueryData(listKey, page([acme]));

    const dialog = await screen.findByRole('alertdialog', { name: 'Delete customer?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete customer' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe(`customer ${acme.id} still has 3 orders`);
    expect(client.getQueryData<ReturnType<typeof page>>(listKey)?.items).toEqual([acme]);
  });

  it("creates a supplier without the optional fields left empty; the server's field error goes under its field", async () => {
    create.mockRejectedValueOnce(apiError('BAD_REQUEST', 'phone: may hold only digits, spaces and + - ( ) . /', 400));
    create.mockResolvedValueOnce(makeParty({ name: 'Globex' }));
    const onClose = vi.fn();
    renderPage(() => <PartyDialog kind="suppliers" onClose={onClose} />);
    const dialog = await screen.findByRole('dialog', { name: 'New supplier' });
    fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: ' Globex ' } });
    fireEvent.input(within(dialog).getByLabelText('Phone (optional)'), { target: { value: '555 0100' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create supplier' }));
    expect(await within(dialog).findByText('may hold only digits, spaces and + - ( ) . /')).toBeTruthy();
    expect(create).toHaveBeenCalledWith({ name: 'Globex', email: undefined, phone: '555 0100', address: undefined });

    fireEvent.click(await within(dialog).findByRole('button', { name: 'Create supplier' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
  });

  it('takes an address, at most 200 characters, trimmed', async () => {
    create.mockResolvedValueOnce(makeParty({ name: 'Initech', address: '1 Main St' }));
    const onClose = vi.fn();
    renderPage(() => <PartyDialog kind="suppliers" onClose={onClose} />);
    const dialog = await screen.findByRole('dialog', { name: 'New supplier' });
    fireEvent.input(within(dialog).getByLabelText('Name'), { target: { value: 'Initech' } });
    const address = within(dialog).getByLabelText('Address (optional)');
    fireEvent.input(address, { target: { value: 'x'.repeat(201) } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create supplier' }));
    expect(await within(dialog).findByText('must be at most 200 characters')).toBeTruthy();
    expect(create).not.toHaveBeenCalled();
    fireEvent.input(address, { target: { value: ' 1 Main St ' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create supplier' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(create).toHaveBeenCalledWith({ name: 'Initech', email: undefined, phone: undefined, address: '1 Main St' });
  });
});
