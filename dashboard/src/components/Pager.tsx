import { createEffect, createSignal, on, Show } from 'solid-js';
import { formatCount } from '../lib/format';

/**
 * Cursor pagination: the server hands out `nextCursor`; the pager remembers the cursors of the pages
 * before, so it can go back. It starts over whenever `resetOn` changes (a new filter or search).
 */
export function createPager(resetOn: () => unknown) {
  const [cursors, setCursors] = createSignal<(string | undefined)[]>([undefined]);
  createEffect(on(resetOn, () => setCursors([undefined]), { defer: true }));
  return {
    cursor: () => cursors().at(-1),
    page: () => cursors().length,
    next: (cursor: string) => setCursors((all) => [...all, cursor]),
    previous: () => setCursors((all) => (all.length > 1 ? all.slice(0, -1) : all)),
    first: () => setCursors([undefined]),
  };
}

export type Pager = ReturnType<typeof createPager>;

export function PagerNav(props: { pager: Pager; nextCursor: string | null | undefined; total: number; pageSize: number; label: string }) {
  const pages = () => Math.max(1, Math.ceil(props.total / props.pageSize));
  return (
    <nav class="pager" aria-label={`${props.label} pages`}>
      <button type="button" disabled={props.pager.page() === 1} onClick={() => props.pager.previous()}>
        ← Previous
      </button>
      <span aria-live="polite">
        Page {props.pager.page()} of {formatCount(pages())}
      </span>
      <Show
        when={props.nextCursor}
        fallback={
          <button type="button" disabled>
            Next →
          </button>
        }
      >
        {(cursor) => (
          <button type="button" onClick={() => props.pager.next(cursor())}>
            Next →
          </button>
        )}
      </Show>
    </nav>
  );
}
