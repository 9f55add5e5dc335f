import { type ComponentProps, lazy, Suspense } from 'solid-js';
import type { OrderDialog } from './OrderDialog';

/*
 * The order dialog and its validation (zod) are a chunk of their own: the orders page shows its
 * rows without them, then fetches them in the background (preloadOrderDialog), before any click.
 */
const load = () => import('./OrderDialog').then((m) => ({ default: m.OrderDialog }));
const Loaded = lazy(load);

export const preloadOrderDialog = () => void Loaded.preload();

export function OrderDialogLazy(props: ComponentProps<typeof OrderDialog>) {
  return (
    <Suspense>
      <Loaded {...props} />
    </Suspense>
  );
}
