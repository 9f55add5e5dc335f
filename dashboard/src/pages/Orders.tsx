import { useQuery } from '@tanstack/solid-query';
import { createMemo, createSignal, Show } from 'solid-js';
import { OrderDialogLazy } from '../components/OrderDialogLazy';
import { OrdersTable } from '../components/OrdersTable';
import { type Picked, Picker } from '../components/Picker';
import { EmptyState } from '../components/States';
import { TransferButtons } from '../components/Transfer';
import { useCanEdit } from '../lib/access';
import { formatCount, formatMoney } from '../lib/format';
import { loaded, PAGE_SIZE, queries } from '../lib/queries';
import { exportUrl } from '../lib/transfer';
import type { OrderFilter } from '../lib/trpc';

/** Where the orders page's first rows are marked (performance.mark), for the e2e test's timing. */
export const FIRST_ROWS_MARK = 'pdash:orders-first-rows';
const STATS_DAYS = 30;

/** Home: every order, filtered by one customer or one supplier (the API takes one or the other). */
export default function Orders() {
  const [customer, setCustomer] = createSignal<Picked | null>(null);
  const [supplier, setSupplier] = createSignal<Picked | null>(null);
  const [creating, setCreating] = createSignal(false);
  const canEdit = useCanEdit();
  const filter = createMemo<OrderFilter>(() => {
    const c = customer();
    const s = supplier();
    return c ? { customerId: c.id } : s ? { supplierId: s.id } : {};
  });
  const filtered = () => !!(customer() || supplier());

  // The same key as the table's first page: served from the cache, no second request.
  const count = useQuery(() => queries.orders({ ...filter(), limit: PAGE_SIZE }));
  // After the rows: on a busy backend the stats must not slow down the first page of orders.
  const stats = useQuery(() => ({ ...queries.stats(STATS_DAYS), enabled: !count.isPending }));
  const show = <T,>(value: T | undefined, format: (value: T) => string) => (value === undefined ? '…' : format(value));

  return (
    <section class="page" aria-labelledby="orders-title">
      <div class="page-head">
        <h1 id="orders-title">Orders</h1>
        <div class="buttons">
          <TransferButtons kind="orders" exportHref={exportUrl('orders', filter())} />
          <Show when={canEdit()}>
            <button type="button" class="primary" onClick={() => setCreating(true)}>
              New order
            </button>
          </Show>
        </div>
      </div>

      <dl class="summary" aria-label="Totals">
        <div>
          <dt>{filtered() ? 'Matching orders' : 'Orders'}</dt>
          <dd data-testid="orders-count">{show(loaded(count)?.total, formatCount)}</dd>
        </div>
        <div>
          <dt>Orders, last {STATS_DAYS} days</dt>
          <dd>{show(loaded(stats)?.count, formatCount)}</dd>
        </div>
        <div>
          <dt>Revenue, last {STATS_DAYS} days</dt>
          <dd>{show(loaded(stats)?.revenueCents, formatMoney)}</dd>
        </div>
      </dl>

      <div class="filters">
        <Picker
          kind="customers"
          label="Customer"
          placeholder="All customers"
          clearable
          value={customer()}
          onChange={(value) => {
            setCustomer(value);
            if (value) setSupplier(null);
          }}
        />
        <Picker
          kind="suppliers"
          label="Supplier"
          placeholder="All suppliers"
          clearable
          value={supplier()}
          onChange={(value) => {
            setSupplier(value);
            if (value) setCustomer(null);
          }}
        />
      </div>

      <OrdersTable
        filter={filter()}
        caption="Orders, newest first"
        onFirstRows={() => performance.mark(FIRST_ROWS_MARK)}
        empty={
          <EmptyState title={filtered() ? 'No orders match this filter.' : 'No orders yet.'}>
            <Show when={!filtered() && canEdit()}>
              <button type="button" class="primary" onClick={() => setCreating(true)}>
                Create the first order
              </button>
            </Show>
          </EmptyState>
        }
      />

      <Show when={creating()}>
        <OrderDialogLazy onClose={() => setCreating(false)} />
      </Show>
    </section>
  );
}
