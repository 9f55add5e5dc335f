import { createUniqueId, type JSX, onCleanup, onMount } from 'solid-js';
import { Portal } from 'solid-js/web';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export interface DialogProps {
  title: string;
  onClose: () => void;
  children: JSX.Element;
  /** Id of the element that describes the dialog (a confirmation's question). */
  describedBy?: string;
  /** A question that needs an answer (a confirmation): role alertdialog. */
  alert?: boolean;
}

/**
 * A modal dialog: focus moves into it (`[data-autofocus]`, or the first field or button after the title) and stays there (Tab
 * and Shift+Tab cycle), Escape closes it, and focus returns to where it was. The rest of the page is
 * made inert meanwhile, so screen readers stay inside too. (No close on a click outside: that would
 * lose a half-filled form.)
 */
export function Dialog(props: DialogProps) {
  const titleId = createUniqueId();
  let panel!: HTMLDivElement;
  const opener = document.activeElement as HTMLElement | null;
  const app = document.getElementById('app');

  const focusables = () => [...panel.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.closest('[hidden]'));

  onMount(() => {
    panel.addEventListener('keydown', onKeyDown);
    app?.setAttribute('inert', '');
    document.body.classList.add('modal-open');
    const first = panel.querySelector<HTMLElement>('[data-autofocus]') ?? focusables().find((el) => !el.matches('.dialog-close')) ?? panel;
    first.focus();
  });
  onCleanup(() => {
    app?.removeAttribute('inert');
    document.body.classList.remove('modal-open');
    if (opener?.isConnected) opener.focus();
  });

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape' && !event.defaultPrevented) {
      event.preventDefault();
      props.onClose();
      return;
    }
    if (event.key !== 'Tab') return;
    const all = focusables();
    const first = all[0];
    const last = all.at(-1);
    if (!first || !last) {
      event.preventDefault();
      return;
    }
    const active = document.activeElement;
    if (event.shiftKey && (active === first || !panel.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !panel.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  };

  return (
    <Portal>
      <div class="backdrop">
        {/* biome-ignore lint/a11y/useAriaPropsSupportedByRole: the role is dialog or alertdialog, both take aria-modal */}
        <div
          ref={panel}
          class="dialog"
          role={props.alert ? 'alertdialog' : 'dialog'}
          aria-modal="true"
          aria-labelledby={titleId}
          aria-describedby={props.describedBy}
          tabIndex={-1}
        >
          <header class="dialog-head">
            <h2 id={titleId}>{props.title}</h2>
            <button type="button" class="icon-button dialog-close" aria-label="Close" onClick={() => props.onClose()}>
              ×
            </button>
          </header>
          {props.children}
        </div>
      </div>
    </Portal>
  );
}
