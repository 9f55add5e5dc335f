import { createSignal } from 'solid-js';

/** Short messages in a corner: the server's words on failure, a confirmation on success. */
export interface Toast {
  id: number;
  kind: 'error' | 'success';
  message: string;
}

const [list, setList] = createSignal<readonly Toast[]>([]);
let nextId = 1;

export const toasts = list;

export function dismissToast(id: number) {
  setList((all) => all.filter((t) => t.id !== id));
}

function push(kind: Toast['kind'], message: string) {
  const id = nextId++;
  // A few at most: a burst of failures should not bury the page.
  setList((all) => [...all.slice(-3), { id, kind, message }]);
  setTimeout(() => dismissToast(id), kind === 'error' ? 8000 : 4000);
}

export const toast = {
  error: (message: string) => push('error', message),
  success: (message: string) => push('success', message),
};
