import { fireEvent, screen, waitFor, within } from '@solidjs/testing-library';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { toasts } from '../lib/toast';
import { trpc } from '../lib/trpc';
import { apiError, makeOrder, page, renderPage } from '../test-support';
import { LiveContext } from './Layout';
import { OrdersTable } from './OrdersTable';
import { Toasts } from './Toasts';

vi.mock('../lib/trpc');
const list = vi.mocked(trpc.orders.list.query);
const remove = vi.mocked(trpc.orders.delete.mutate);

const table = (filter = {}) => <OrdersTable filter={filter} caption="Orders" empty={<p>No orders yet.</p>} />;

describe('OrdersTable', () => {
  beforeEach(() => {
    list.mockReset();
    remove.mockReset();
  });

  it('shows a skeleton, then the rows: date, customer, supplier and the total from cents', async () => {
    let resolve!: (value: ReturnType<typeof page>) => void;
    list.mockReturnValue(new Promise((r) => (resolve = r)) as never);
    renderPage(() => table());
    expect(screen.getByRole('status').textContent).toContain('Loading orders');

    resolve(
      page([makeOrder({ customerName: 'Acme Corp', supplierName: 'Globex', totalCents: 123456, createdAt: '2026-03-05T10:00:00.000Z' })]),
    );
    const row = (await screen.findAllByRole('row'))[1]!;
    expect(within(row).getByRole('link', { name: 'Acme Corp' }).getAttribute('href')).toMatch(/^\/customers\/[0-9a-f]{24}$/);
    expect(within(row).getByRole('link', { name: 'Globex' })).toBeTruthy();
    expect(row.textContent).toContain('$1,234.56');
    expect(row.textContent).toContain('2026');
    expect(list).toHaveBeenCalledWith({ limit: 20, cursor: undefined }, expect.anything());
  });

  it('shows its empty state when there are no orders', async () => {
    list.mockResolvedValue(page([]));
    renderPage(() => table());
    expect(await screen.findByText('No orders yet.')).toBeTruthy();
  });

  it('pages with the server cursor, forwards and back', async () => {
    list.mockImplementation(
      (input) =>
        Promise.resolve(
          input?.cursor === 'c2'
            ? page([makeOrder({ customerName: 'Second page' })], null, 21)
            : page([makeOrder({ customerName: 'First page' })], 'c2', 21),
        ) as never,
    );
    renderPage(() => table({ customerId: 'a'.repeat(24) }));
    await screen.findByText('First page');
    expect(screen.getByText(/Page 1 of 2/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Next →' }));
    await screen.findByText('Second page');
    expect(list).toHaveBeenLastCalledWith({ customerId: 'a'.repeat(24), limit: 20, cursor: 'c2' }, expect.anything());
    expect(screen.getByText(/Page 2 of 2/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: '← Previous' }));
    await screen.findByText('First page');
  });

  it('deletes after confirmation, at once; a refusal puts the row back and says why', async () => {
    const order = makeOrder({ customerName: 'Acme Corp' });
    list.mockResolvedValue(page([order]));
    let reject!: (err: unknown) => void;
    remove.mockReturnValue(new Promise((_, r) => (reject = r)) as never);
    renderPage(() => (
      <>
        {table()}
        <Toasts />
      </>
    ));
    fireEvent.click(await screen.findByRole('button', { name: /^Delete order: Acme Corp/ }));
    const dialog = await screen.findByRole('alertdialog', { name: 'Delete order?' });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete order' }));
    // Optimistic: gone from the table before the server answers.
    await waitFor(() => expect(screen.queryByRole('link', { name: 'Acme Corp' })).toBeNull());
    expect((within(dialog).getByRole('button', { name: 'Deleting…' }) as HTMLButtonElement).disabled).toBe(true);

    reject(apiError('SERVICE_UNAVAILABLE', 'orders service unavailable; try again', 503));
    expect((await within(dialog).findByRole('alert')).textContent).toContain('orders service unavailable; try again');
    expect(await screen.findByRole('link', { name: 'Acme Corp' })).toBeTruthy();
    expect(toasts().map((t) => t.message)).toContain('orders service unavailable; try again');
  });

  it('highlights the rows that a live event just changed', async () => {
    const changed = makeOrder({ customerName: 'Changed' });
    list.mockResolvedValue(page([changed, makeOrder({ customerName: 'Unchanged' })]));
    renderPage(() => (
      <LiveContext.Provider value={{ status: () => 'live', changeOf: (id) => (id === changed.id ? 'updated' : undefined) }}>
        {table()}
      </LiveContext.Provider>
    ));
    const row = (await screen.findByText('Changed')).closest('tr')!;
    expect(row.classList.contains('changed')).toBe(true);
    expect(row.dataset.change).toBe('updated');
    expect(screen.getByText('Unchanged').closest('tr')!.classList.contains('changed')).toBe(false);
  });
});
