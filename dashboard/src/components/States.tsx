import { For, type JSX, Show } from 'solid-js';

/** Grey placeholder rows while a table first loads. */
export function TableSkeleton(props: { rows?: number; columns: number; label: string }) {
  return (
    <div class="skeleton-table" role="status" aria-live="polite" aria-busy="true">
      <span class="visually-hidden">Loading {props.label}…</span>
      <For each={Array.from({ length: props.rows ?? 6 })}>
        {() => (
          <div class="skeleton-row" aria-hidden="true">
            <For each={Array.from({ length: props.columns })}>{() => <span class="skeleton" />}</For>
          </div>
        )}
      </For>
    </div>
  );
}

export function BlockSkeleton(props: { label: string; height?: string }) {
  return (
    <div class="skeleton block" style={{ height: props.height ?? '8rem' }} role="status" aria-busy="true">
      <span class="visually-hidden">Loading {props.label}…</span>
    </div>
  );
}

/** What a list shows when it has nothing: a sentence, and what to do about it. */
export function EmptyState(props: { title: string; children?: JSX.Element }) {
  return (
    <div class="empty">
      <p class="empty-title">{props.title}</p>
      <Show when={props.children}>{props.children}</Show>
    </div>
  );
}

/** A query that failed with nothing to show: the server's message and a way to try again. */
export function LoadError(props: { message: string; onRetry: () => void }) {
  return (
    <div class="form-error" role="alert">
      <p>{props.message}</p>
      <button type="button" onClick={() => props.onRetry()}>
        Try again
      </button>
    </div>
  );
}
