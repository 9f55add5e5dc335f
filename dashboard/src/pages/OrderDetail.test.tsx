import { screen, within } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { trpc } from '../lib/trpc';
import { apiError, makeOrder, makeUser, renderPage } from '../test-support';
import OrderDetail from './OrderDetail';

vi.mock('../lib/trpc');
const byId = vi.mocked(trpc.orders.byId.query);
const history = vi.mocked(trpc.audit.list.query);

const renderDetail = (id: string, role: 'viewer' | 'editor') =>
  renderPage(() => <p>elsewhere</p>, { url: `/orders/${id}`, routes: { '/orders/:id': OrderDetail }, user: makeUser({ role }) });

describe('OrderDetail page', () => {
  beforeEach(() => {
    byId.mockReset();
    history.mockReset();
  });

  it("shows the order's fields and its history; edit and delete for editors", async () => {
    const order = makeOrder({ customerName: 'Acme Corp', supplierName: 'Globex', totalCents: 123456 });
    byId.mockResolvedValue(order);
    history.mockResolvedValue({
      items: [
        {
          id: '1'.repeat(24),
          at: order.createdAt,
          actor: { id: 'b'.repeat(24), username: 'alice' },
          action: 'created',
          entity: 'order',
          entityId: order.id,
          changes: { totalCents: { to: 123456 } },
        },
      ],
      nextCursor: null,
    });
    renderDetail(order.id, 'editor');
    expect(await screen.findByRole('heading', { name: 'Order of Acme Corp' })).toBeTruthy();
    const record = screen.getByTestId('order-record');
    expect(within(record).getByRole('link', { name: 'Acme Corp' }).getAttribute('href')).toBe(`/customers/${order.customerId}`);
    expect(within(record).getByRole('link', { name: 'Globex' }).getAttribute('href')).toBe(`/suppliers/${order.supplierId}`);
    expect(screen.getByTestId('order-total').textContent).toBe('$1,234.56');
    expect(await screen.findByText('totalCents: — → $1,234.56')).toBeTruthy();
    expect(byId).toHaveBeenCalledWith({ id: order.id }, expect.anything());
    expect(history).toHaveBeenCalledWith({ entity: 'order', entityId: order.id, limit: 20, cursor: undefined }, expect.anything());
    expect(screen.getByRole('button', { name: 'Edit' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Delete' })).toBeTruthy();
  });

  it('gives a viewer no edit or delete', async () => {
    const order = makeOrder({ customerName: 'Acme Corp' });
    byId.mockResolvedValue(order);
    history.mockResolvedValue({ items: [], nextCursor: null });
    renderDetail(order.id, 'viewer');
    await screen.findByRole('heading', { name: 'Order of Acme Corp' });
    expect(screen.queryByRole('button', { name: 'Edit' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Delete' })).toBeNull();
  });

  it('says when there is no such order', async () => {
    byId.mockRejectedValue(apiError('NOT_FOUND', 'no order ffffffffffffffffffffffff', 404));
    renderDetail('f'.repeat(24), 'viewer');
    expect(await screen.findByRole('heading', { name: 'No such order' })).toBeTruthy();
    expect(screen.queryByTestId('history')).toBeNull();
  });
});
