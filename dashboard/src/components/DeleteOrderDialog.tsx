import { useMutation, useQueryClient } from '@tanstack/solid-query';
import { createSignal } from 'solid-js';
import { errorMessage } from '../lib/errors';
import { formatDateTime, formatMoney } from '../lib/format';
import { patchOrder, restore, type Snapshot, snapshot } from '../lib/queries';
import { toast } from '../lib/toast';
import { type Order, trpc } from '../lib/trpc';
import { ConfirmDialog } from './ConfirmDialog';

/** An order in a sentence or a label: "Acme Corp, $123.45". */
export const describeOrder = (order: Order) => `${order.customerName || 'a deleted customer'}, ${formatMoney(order.totalCents)}`;

/**
 * Deleting an order: gone from every table at once, put back if the server refuses, and the
 * refusal shown in the dialog, which stays open until the server answers.
 */
export function DeleteOrderDialog(props: { order: Order; onClose: () => void; onDeleted?: () => void }) {
  const client = useQueryClient();
  const [error, setError] = createSignal<string>();
  const remove = useMutation(() => ({
    mutationFn: (order: Order) => trpc.orders.delete.mutate({ id: order.id }),
    onMutate: async (order): Promise<Snapshot> => {
      const saved = await snapshot(client, ['orders']);
      patchOrder(client, order.id, null);
      return saved;
    },
    onError: (err, _order, saved) => {
      restore(client, saved);
      setError(errorMessage(err));
      toast.error(errorMessage(err));
    },
    onSuccess: () => {
      toast.success('Order deleted');
      props.onClose();
      props.onDeleted?.();
    },
    onSettled: () => client.invalidateQueries({ queryKey: ['orders'] }),
  }));

  return (
    <ConfirmDialog
      title="Delete order?"
      confirmLabel="Delete order"
      pending={remove.isPending}
      error={error()}
      onConfirm={() => remove.mutate(props.order)}
      onClose={props.onClose}
    >
      <p>
        The order of {describeOrder(props.order)} from {formatDateTime(props.order.createdAt)} will be deleted. This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
