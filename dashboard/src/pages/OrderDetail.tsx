import { A, useNavigate, useParams } from '@solidjs/router';
import { useQuery } from '@tanstack/solid-query';
import { createSignal, Match, Show, Switch } from 'solid-js';
import { DeleteOrderDialog } from '../components/DeleteOrderDialog';
import { HistoryPanel } from '../components/HistoryPanel';
import { OrderDialogLazy } from '../components/OrderDialogLazy';
import { RecordHead } from '../components/RecordHead';
import { BlockSkeleton, EmptyState, LoadError } from '../components/States';
import { errorMessage, isNotFound } from '../lib/errors';
import { formatDateTime, formatMoney } from '../lib/format';
import { loaded, queries } from '../lib/queries';

/** One order: its fields (editable by editors) and its history. */
export default function OrderDetail() {
  const params = useParams<{ id: string }>();
  const navigate = useNavigate();
  const order = useQuery(() => queries.order(params.id));
  const [editing, setEditing] = createSignal(false);
  const [deleting, setDeleting] = createSignal(false);
  const notFound = () => order.isError && isNotFound(order.error);

  return (
    <section class="page" aria-labelledby="order-title">
      <p class="breadcrumb">
        <A href="/">← Orders</A>
      </p>
      <Switch>
        <Match when={notFound()}>
          <h1 id="order-title">No such order</h1>
          <EmptyState title="There is no order with this id; it may have been deleted.">
            <A href="/">All orders</A>
          </EmptyState>
        </Match>
        <Match when={order.isError && !loaded(order)}>
          <h1 id="order-title">Order</h1>
          <LoadError message={errorMessage(order.error)} onRetry={() => void order.refetch()} />
        </Match>
        <Match when={!loaded(order)}>
          <h1 id="order-title" class="visually-hidden">
            Order
          </h1>
          <BlockSkeleton label="order" />
        </Match>
        <Match when={loaded(order)}>
          {(record) => (
            <>
              <RecordHead
                id="order-title"
                title={`Order of ${record().customerName || 'a deleted customer'}`}
                onEdit={() => setEditing(true)}
                onDelete={() => setDeleting(true)}
              />
              <dl class="record card" data-testid="order-record">
                <div>
                  <dt>Customer</dt>
                  <dd>
                    <PartyLink kind="customers" id={record().customerId} name={record().customerName} />
                  </dd>
                </div>
                <div>
                  <dt>Supplier</dt>
                  <dd>
                    <PartyLink kind="suppliers" id={record().supplierId} name={record().supplierName} />
                  </dd>
                </div>
                <div>
                  <dt>Total</dt>
                  <dd data-testid="order-total">{formatMoney(record().totalCents)}</dd>
                </div>
                <div>
                  <dt>Created</dt>
                  <dd>{formatDateTime(record().createdAt)}</dd>
                </div>
                <div>
                  <dt>Updated</dt>
                  <dd>{formatDateTime(record().updatedAt)}</dd>
                </div>
                <div>
                  <dt>Version</dt>
                  <dd>{record().version}</dd>
                </div>
                <div>
                  <dt>Id</dt>
                  <dd>
                    <code>{record().id}</code>
                  </dd>
                </div>
              </dl>
              <Show when={editing()}>
                <OrderDialogLazy order={record()} onClose={() => setEditing(false)} />
              </Show>
              <Show when={deleting()}>
                <DeleteOrderDialog order={record()} onClose={() => setDeleting(false)} onDeleted={() => navigate('/', { replace: true })} />
              </Show>
            </>
          )}
        </Match>
      </Switch>

      <Show when={!notFound()}>
        <HistoryPanel kind="orders" id={params.id} />
      </Show>
    </section>
  );
}

/** A party of the order, linked; a party deleted since shows as such. */
function PartyLink(props: { kind: 'customers' | 'suppliers'; id: string; name: string }) {
  return (
    <Show when={props.name} fallback={<span class="muted">(deleted)</span>}>
      <A href={`/${props.kind}/${props.id}`}>{props.name}</A>
    </Show>
  );
}
