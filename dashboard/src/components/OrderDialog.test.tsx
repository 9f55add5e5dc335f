import { fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { trpc } from '../lib/trpc';
import { apiError, makeOrder, makeParty, page, renderPage } from '../test-support';
import { OrderDialog } from './OrderDialog';

vi.mock('../lib/trpc');
const create = vi.mocked(trpc.orders.create.mutate);
const update = vi.mocked(trpc.orders.update.mutate);
const byId = vi.mocked(trpc.orders.byId.query);
const customers = vi.mocked(trpc.customers.list.query);
const suppliers = vi.mocked(trpc.suppliers.list.query);

describe('OrderDialog', () => {
  beforeEach(() => {
    for (const mock of [create, update, byId, customers, suppliers]) mock.mockReset();
    customers.mockResolvedValue(page([]));
    suppliers.mockResolvedValue(page([]));
  });

  it("checks the order before sending it, with the server's rules", async () => {
    renderPage(() => <OrderDialog onClose={() => {}} />);
    const dialog = await screen.findByRole('dialog', { name: 'New order' });
    fireEvent.input(within(dialog).getByLabelText('Total'), { target: { value: '12.345' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create order' }));
    expect(await within(dialog).findByText('choose a customer')).toBeTruthy();
    expect(within(dialog).getByText('choose a supplier')).toBeTruthy();
    expect(within(dialog).getByText('must be an amount like 12.34')).toBeTruthy();
    expect(create).not.toHaveBeenCalled();
  });

  it('creates an order from the searchable pickers, in cents', async () => {
    const acme = makeParty({ name: 'Acme Corp' });
    const globex = makeParty({ name: 'Globex Supplies' });
    customers.mockResolvedValue(page([acme]));
    suppliers.mockResolvedValue(page([globex]));
    create.mockResolvedValue(makeOrder());
    const onClose = vi.fn();
    renderPage(() => <OrderDialog onClose={onClose} />);
    const dialog = await screen.findByRole('dialog', { name: 'New order' });

    const customer = within(dialog).getByRole('combobox', { name: 'Customer' });
    fireEvent.input(customer, { target: { value: 'acm' } });
    await waitFor(() => expect(customers).toHaveBeenLastCalledWith({ q: 'acm', limit: 8 }, expect.anything()));
    fireEvent.keyDown(customer, { key: 'ArrowDown' });
    fireEvent.keyDown(customer, { key: 'Enter' });
    expect((customer as HTMLInputElement).value).toBe('Acme Corp');

    const supplier = within(dialog).getByRole('combobox', { name: 'Supplier' });
    fireEvent.click(supplier);
    fireEvent.mouseDown(await within(dialog).findByRole('option', { name: 'Globex Supplies' }));

    fireEvent.input(within(dialog).getByLabelText('Total'), { target: { value: '1,234.5' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create order' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(create).toHaveBeenCalledWith({
      customerId: acme.id,
      supplierId: globex.id,
      totalCents: 123450,
      idempotencyKey: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it('sends a create again after a 503 with the same idempotency key; changed fields get a new one', async () => {
    const acme = makeParty({ name: 'Acme Corp' });
    customers.mockResolvedValue(page([acme]));
    suppliers.mockResolvedValue(page([acme]));
    create.mockRejectedValue(apiError('SERVICE_UNAVAILABLE', 'orders service unavailable; try again', 503));
    renderPage(() => <OrderDialog onClose={vi.fn()} />);
    const dialog = await screen.findByRole('dialog', { name: 'New order' });
    for (const name of ['Customer', 'Supplier']) {
      fireEvent.click(within(dialog).getByRole('combobox', { name }));
      fireEvent.mouseDown(await within(dialog).findByRole('option', { name: 'Acme Corp' }));
    }
    const submit = async (total: string, calls: number) => {
      fireEvent.input(within(dialog).getByLabelText('Total'), { target: { value: total } });
      fireEvent.click(within(dialog).getByRole('button', { name: 'Create order' }));
      await waitFor(() => expect(create).toHaveBeenCalledTimes(calls));
      await waitFor(() => expect(within(dialog).getByRole('button', { name: 'Create order' }).hasAttribute('disabled')).toBe(false));
      return create.mock.calls.at(-1)![0].idempotencyKey;
    };
    const first = await submit('10', 1);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(await submit('10', 2)).toBe(first);
    expect(await submit('11', 3)).not.toBe(first);
  });

  it('Escape in an open picker closes its list, not the dialog', async () => {
    customers.mockResolvedValue(page([makeParty()]));
    const onClose = vi.fn();
    renderPage(() => <OrderDialog onClose={onClose} />);
    const customer = await screen.findByRole('combobox', { name: 'Customer' });
    expect(customer.getAttribute('aria-expanded')).toBe('false');
    fireEvent.keyDown(customer, { key: 'ArrowDown' });
    expect(customer.getAttribute('aria-expanded')).toBe('true');
    fireEvent.keyDown(customer, { key: 'Escape' });
    expect(customer.getAttribute('aria-expanded')).toBe('false');
    expect(onClose).not.toHaveBeenCalled();
    fireEvent.keyDown(customer, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledOnce();
  });

  it('on a version conflict, offers the latest version and saves against it', async () => {
    const order = makeOrder({ totalCents: 20000, version: 2 });
    update.mockRejectedValueOnce(apiError('CONFLICT', `order ${order.id} is not at version 2; reload it and try again`, 409));
    byId.mockResolvedValue({ ...order, totalCents: 30000, version: 3 });
    const onClose = vi.fn();
    renderPage(() => <OrderDialog order={order} onClose={onClose} />);
    const dialog = await screen.findByRole('dialog', { name: 'Edit order' });
    const total = within(dialog).getByLabelText('Total') as HTMLInputElement;
    expect(total.value).toBe('200.00');

    fireEvent.input(total, { target: { value: '250.00' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    const alert = await within(dialog).findByRole('alert');
    expect(alert.textContent).toContain('Someone else changed this order after you opened it');
    expect(alert.textContent).toContain('is not at version 2');
    expect(update).toHaveBeenCalledWith(expect.objectContaining({ id: order.id, totalCents: 25000, version: 2 }));

    fireEvent.click(within(alert).getByRole('button', { name: 'Reload the latest version' }));
    await waitFor(() => expect(total.value).toBe('300.00'));
    expect(within(dialog).queryByRole('alert')).toBeNull();

    update.mockResolvedValueOnce({ ...order, totalCents: 31000, version: 4 });
    fireEvent.input(total, { target: { value: '310' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(update).toHaveBeenLastCalledWith(expect.objectContaining({ totalCents: 31000, version: 3 }));
  });

  it('disables Save while the request is pending', async () => {
    update.mockReturnValue(new Promise(() => {}) as never);
    renderPage(() => <OrderDialog order={makeOrder()} onClose={() => {}} />);
    const dialog = await screen.findByRole('dialog', { name: 'Edit order' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    const saving = await within(dialog).findByRole('button', { name: 'Saving…' });
    expect((saving as HTMLButtonElement).disabled).toBe(true);
  });
});
