import { For } from 'solid-js';
import { Portal } from 'solid-js/web';
import { dismissToast, toasts } from '../lib/toast';

/** Outside the app's root, so a modal dialog (which makes the root inert) does not silence them. */
export function Toasts() {
  return (
    <Portal>
      <div class="toasts" role="status" aria-live="polite">
        <For each={toasts()}>
          {(t) => (
            <div class={`toast ${t.kind}`} data-kind={t.kind}>
              <span>{t.message}</span>
              <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
                ×
              </button>
            </div>
          )}
        </For>
      </div>
    </Portal>
  );
}
