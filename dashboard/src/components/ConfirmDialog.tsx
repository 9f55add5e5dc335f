import { createUniqueId, type JSX } from 'solid-js';
import { Dialog } from './Dialog';
import { FormError } from './Field';

/**
 * "Delete this?" with the answer kept open while the request runs: a refusal from the server
 * (a customer that still has orders) is shown right here, in its own words.
 */
export function ConfirmDialog(props: {
  title: string;
  children: JSX.Element;
  confirmLabel: string;
  pending: boolean;
  error?: string | undefined;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const questionId = createUniqueId();
  return (
    <Dialog title={props.title} onClose={props.onClose} alert describedBy={questionId}>
      <div class="dialog-body">
        <div id={questionId}>{props.children}</div>
        <FormError message={props.error} />
        <div class="dialog-actions">
          <button type="button" class="secondary" data-autofocus onClick={() => props.onClose()}>
            Cancel
          </button>
          <button type="button" class="danger" disabled={props.pending} onClick={() => props.onConfirm()}>
            {props.pending ? 'Deleting…' : props.confirmLabel}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
