import { createSignal, lazy, Show, Suspense } from 'solid-js';
import { useCanEdit } from '../lib/access';
import type { ImportKind } from '../lib/transfer';

// The import dialog is a chunk of its own, fetched on the first click: most visits import nothing.
const ImportDialog = lazy(() => import('./ImportDialog').then((m) => ({ default: m.ImportDialog })));

/**
 * A list page's CSV controls: "Export CSV" (a download of `exportHref`, for everyone signed in) and,
 * for editors and admins, "Import CSV", which opens the import dialog.
 */
export function TransferButtons(props: { kind: ImportKind; exportHref: string }) {
  const canEdit = useCanEdit();
  const [importing, setImporting] = createSignal(false);
  return (
    <>
      <a class="button" href={props.exportHref} download="">
        Export CSV
      </a>
      <Show when={canEdit()}>
        <button type="button" onClick={() => setImporting(true)}>
          Import CSV
        </button>
      </Show>
      <Show when={importing()}>
        <Suspense>
          <ImportDialog kind={props.kind} onClose={() => setImporting(false)} />
        </Suspense>
      </Show>
    </>
  );
}
