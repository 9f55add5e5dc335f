import { fireEvent, render, screen } from '@solidjs/testing-library';
import { createSignal, Show } from 'solid-js';
import { describe, expect, it, vi } from 'vitest';
import { Dialog } from './Dialog';

function Harness(props: { onClose?: () => void }) {
  const [open, setOpen] = createSignal(false);
  return (
    <div id="app">
      <button type="button" onClick={() => setOpen(true)}>
        Open
      </button>
      <Show when={open()}>
        <Dialog
          title="Edit order"
          onClose={() => {
            props.onClose?.();
            setOpen(false);
          }}
        >
          <label for="a">First</label>
          <input id="a" />
          <button type="button">Last</button>
        </Dialog>
      </Show>
    </div>
  );
}

describe('Dialog', () => {
  it('is a labelled modal dialog that takes the focus and makes the page behind it inert', async () => {
    render(() => <Harness />);
    const opener = screen.getByRole('button', { name: 'Open' });
    opener.focus();
    fireEvent.click(opener);
    const dialog = await screen.findByRole('dialog', { name: 'Edit order' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(document.activeElement).toBe(screen.getByLabelText('First'));
    expect(document.getElementById('app')?.hasAttribute('inert')).toBe(true);
  });

  it('keeps Tab and Shift+Tab inside', async () => {
    render(() => <Harness />);
    fireEvent.click(screen.getByRole('button', { name: 'Open' }));
    const dialog = await screen.findByRole('dialog');
    const last = screen.getByRole('button', { name: 'Last' });
    const first = screen.getByRole('button', { name: 'Close' });
    last.focus();
    fireEvent.keyDown(dialog, { key: 'Tab' });
    expect(document.activeElement).toBe(first);
    fireEvent.keyDown(dialog, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(last);
  });

  it('closes on Escape and gives the focus back to what opened it', async () => {
    const onClose = vi.fn();
    render(() => <Harness onClose={onClose} />);
    const opener = screen.getByRole('button', { name: 'Open' });
    opener.focus();
    fireEvent.click(opener);
    fireEvent.keyDown(await screen.findByLabelText('First'), { key: 'Escape' });
    expect(onClose).toHaveBeenCalledOnce();
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(opener);
    expect(document.getElementById('app')?.hasAttribute('inert')).toBe(false);
  });
});
