import { useMutation, useQueryClient } from '@tanstack/solid-query';
import { createSignal, Show } from 'solid-js';
import { centsToInput } from '../lib/format';
import { createFormErrors } from '../lib/forms';
import { randomKey } from '../lib/keys';
import { patchOrder, queries, restore, type Snapshot, snapshot } from '../lib/queries';
import { orderForm, validate } from '../lib/schemas';
import { toast } from '../lib/toast';
import { type Order, type RouterInputs, trpc } from '../lib/trpc';
import { Dialog } from './Dialog';
import { Field, FormError } from './Field';
import { type Picked, Picker } from './Picker';

type OrderInput = RouterInputs['orders']['create'];
const FIELDS = ['customerId', 'supplierId', 'totalCents'] as const;

/**
 * Creates an order, or edits `order`. An edit is shown in the tables at once (optimistic) and rolled
 * back if the server refuses it; it names the version it started from, so an edit made meanwhile by
 * someone else is a conflict (409), with a button to load what they saved.
 */
export function OrderDialog(props: { order?: Order; onClose: () => void }) {
  const client = useQueryClient();
  // A copy as it was when the dialog opened: live events may change the cached order meanwhile.
  const start = props.order ? { ...props.order } : undefined;
  const [customer, setCustomer] = createSignal<Picked | null>(start ? { id: start.customerId, name: start.customerName } : null);
  const [supplier, setSupplier] = createSignal<Picked | null>(start ? { id: start.supplierId, name: start.supplierName } : null);
  const [total, setTotal] = createSignal(start ? centsToInput(start.totalCents) : '');
  const [version, setVersion] = createSignal(start?.version);
  const form = createFormErrors(FIELDS, 'order');
  // One key per distinct order submitted from this dialog: pressing Create again after a timeout
  // (503, which does not mean nothing was made) returns that order instead of making a second.
  let keyed: { input: string; key: string } | undefined;
  const idempotencyKeyFor = (input: OrderInput) => {
    const fields = JSON.stringify([input.customerId, input.supplierId, input.totalCents]);
    if (keyed?.input !== fields) keyed = { input: fields, key: randomKey() };
    return keyed.key;
  };

  const create = useMutation(() => ({
    mutationFn: (input: OrderInput) => trpc.orders.create.mutate({ ...input, idempotencyKey: idempotencyKeyFor(input) }),
    onSuccess: (order) => {
      toast.success(`Order for ${order.customerName} created`);
      props.onClose();
    },
    onError: (err) => form.fromServer(err),
    onSettled: () => client.invalidateQueries({ queryKey: ['orders'] }),
  }));

  const update = useMutation(() => ({
    mutationFn: (input: OrderInput & { id: string; version?: number | undefined }) => trpc.orders.update.mutate(input),
    onMutate: async (input): Promise<Snapshot> => {
      const saved = await snapshot(client, ['orders']);
      if (start) {
        patchOrder(client, start.id, {
          ...start,
          ...input,
          customerName: customer()?.name ?? start.customerName,
          supplierName: supplier()?.name ?? start.supplierName,
          version: input.version ?? start.version,
        });
      }
      return saved;
    },
    onError: (err, _input, saved) => {
      restore(client, saved);
      form.fromServer(err, { update: true });
    },
    onSuccess: (order) => {
      patchOrder(client, order.id, order);
      toast.success('Order saved');
      props.onClose();
    },
    onSettled: () => client.invalidateQueries({ queryKey: ['orders'] }),
  }));

  /** After a conflict: the order as it is now, into the form, with its version. */
  const reload = async () => {
    if (!start) return;
    try {
      const latest = await client.fetchQuery({ ...queries.order(start.id), staleTime: 0 });
      setCustomer({ id: latest.customerId, name: latest.customerName });
      setSupplier({ id: latest.supplierId, name: latest.supplierName });
      setTotal(centsToInput(latest.totalCents));
      setVersion(latest.version);
      form.reloaded();
    } catch (err) {
      form.reloaded(err);
    }
  };

  const pending = () => create.isPending || update.isPending;

  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    const result = validate(orderForm, { customerId: customer()?.id ?? '', supplierId: supplier()?.id ?? '', totalCents: total() });
    form.reset(result.errors);
    if (!result.data) return;
    if (start) update.mutate({ id: start.id, ...result.data, version: version() });
    else create.mutate(result.data);
  };

  return (
    <Dialog title={start ? 'Edit order' : 'New order'} onClose={props.onClose}>
      <form class="dialog-body" onSubmit={submit} noValidate>
        <Picker kind="customers" label="Customer" value={customer()} onChange={setCustomer} error={form.errors().customerId} />
        <Picker kind="suppliers" label="Supplier" value={supplier()} onChange={setSupplier} error={form.errors().supplierId} />
        <Field
          label="Total"
          name="total"
          inputmode="decimal"
          placeholder="0.00"
          value={total()}
          onValue={setTotal}
          error={form.errors().totalCents}
        />
        <FormError message={form.formError()}>
          <Show when={form.conflict()}>
            <button type="button" onClick={() => void reload()}>
              Reload the latest version
            </button>
          </Show>
        </FormError>
        <div class="dialog-actions">
          <button type="button" class="secondary" onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={pending()}>
            {pending() ? 'Saving…' : start ? 'Save' : 'Create order'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
