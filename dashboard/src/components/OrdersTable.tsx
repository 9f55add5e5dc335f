import { A } from '@solidjs/router';
import { keepPreviousData, useQuery } from '@tanstack/solid-query';
import { createEffect, createSignal, For, type JSX, Match, Show, Switch } from 'solid-js';
import { useCanEdit } from '../lib/access';
import { errorMessage } from '../lib/errors';
import { formatDateTime, formatMoney } from '../lib/format';
import { loaded, PAGE_SIZE, queries } from '../lib/queries';
import type { Order, OrderFilter } from '../lib/trpc';
import { DeleteOrderDialog, describeOrder } from './DeleteOrderDialog';
import { useLive } from './Layout';
import { OrderDialogLazy, preloadOrderDialog } from './OrderDialogLazy';
import { createPager, PagerNav } from './Pager';
import { EmptyState, LoadError, TableSkeleton } from './States';

/**
 * A server-paginated table of orders (newest first), optionally of one customer or supplier, with
 * a link to each order's page, and edit and delete on each row for editors. Rows that a live event
 * just touched are highlighted.
 */
export function OrdersTable(props: {
  filter: OrderFilter;
  caption: string;
  empty: JSX.Element;
  /** Called once, when the first rows are in the document (the e2e test's timing mark). */
  onFirstRows?: () => void;
}) {
  const live = useLive();
  const canEdit = useCanEdit();
  const pager = createPager(() => JSON.stringify(props.filter));
  const orders = useQuery(() => ({
    ...queries.orders({ ...props.filter, limit: PAGE_SIZE, cursor: pager.cursor() }),
    placeholderData: keepPreviousData,
  }));
  const page = () => loaded(orders);

  // Once the table has loaded: mark the first rows (the e2e timing), then fetch the edit dialog's code.
  let marked = false;
  let preloaded = false;
  createEffect(() => {
    const current = page();
    if (!current) return;
    if (!marked && current.items.length > 0) {
      marked = true;
      props.onFirstRows?.();
    }
    if (!preloaded && canEdit()) {
      preloaded = true;
      preloadOrderDialog();
    }
  });

  const [editing, setEditing] = createSignal<Order>();
  const [deleting, setDeleting] = createSignal<Order>();

  return (
    <>
      <Switch>
        <Match when={orders.isError && !page()}>
          <LoadError message={errorMessage(orders.error)} onRetry={() => void orders.refetch()} />
        </Match>
        <Match when={!page()}>
          <TableSkeleton columns={5} label="orders" />
        </Match>
        <Match when={page()?.items.length === 0}>
          <Show when={pager.page() > 1} fallback={props.empty}>
            <EmptyState title="No orders on this page any more.">
              <button type="button" onClick={() => pager.first()}>
                Back to the first page
              </button>
            </EmptyState>
          </Show>
        </Match>
        <Match when={page()}>
          {(current) => (
            <>
              <div class="table-wrap" classList={{ stale: orders.isPlaceholderData }}>
                <table class="data orders-table">
                  <caption class="visually-hidden">{props.caption}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Date</th>
                      <th scope="col">Customer</th>
                      <th scope="col">Supplier</th>
                      <th scope="col" class="num">
                        Total
                      </th>
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={current().items}>
                      {(order) => (
                        <tr
                          data-order-id={order.id}
                          data-change={live.changeOf(order.id)}
                          classList={{ changed: !!live.changeOf(order.id) }}
                        >
                          <td data-label="Date">
                            <time datetime={order.createdAt}>{formatDateTime(order.createdAt)}</time>
                          </td>
                          <td data-label="Customer">
                            <Show when={order.customerName} fallback={<span class="muted">(deleted)</span>}>
                              <A href={`/customers/${order.customerId}`}>{order.customerName}</A>
                            </Show>
                          </td>
                          <td data-label="Supplier">
                            <Show when={order.supplierName} fallback={<span class="muted">(deleted)</span>}>
                              <A href={`/suppliers/${order.supplierId}`}>{order.supplierName}</A>
                            </Show>
                          </td>
                          <td data-label="Total" class="num">
                            {formatMoney(order.totalCents)}
                          </td>
                          <td class="actions">
                            <A href={`/orders/${order.id}`} class="details-link" aria-label={`Details of order: ${describeOrder(order)}`}>
                              Details
                            </A>
                            <Show when={canEdit()}>
                              <button
                                type="button"
                                class="link"
                                aria-label={`Edit order: ${describeOrder(order)}`}
                                onClick={() => setEditing(order)}
                              >
                                Edit
                              </button>
                              <button
                                type="button"
                                class="link danger-link"
                                aria-label={`Delete order: ${describeOrder(order)}`}
                                onClick={() => setDeleting(order)}
                              >
                                Delete
                              </button>
                            </Show>
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
              <PagerNav pager={pager} nextCursor={current().nextCursor} total={current().total} pageSize={PAGE_SIZE} label="Orders" />
            </>
          )}
        </Match>
      </Switch>

      <Show when={editing()}>{(order) => <OrderDialogLazy order={order()} onClose={() => setEditing()} />}</Show>
      <Show when={deleting()}>{(order) => <DeleteOrderDialog order={order()} onClose={() => setDeleting()} />}</Show>
    </>
  );
}
