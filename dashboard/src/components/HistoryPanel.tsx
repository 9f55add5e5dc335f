import type { AuditAction, AuditValue } from '@pdash/contracts';
import { useInfiniteQuery } from '@tanstack/solid-query';
import { createUniqueId, For, Match, Show, Switch } from 'solid-js';
import { errorMessage } from '../lib/errors';
import { formatDateTime, formatMoney } from '../lib/format';
import { queries } from '../lib/queries';
import type { AuditEntry, RecordKind } from '../lib/trpc';
import { BlockSkeleton, EmptyState, LoadError } from './States';

const ACTION_WORDS: Record<AuditAction, string> = {
  created: 'created',
  updated: 'updated',
  deleted: 'deleted',
  imported: 'imported',
  invited: 'invited',
  signed_up: 'signed up',
};

/** A value before or after a change; money fields (`…Cents`) as money, a missing one as "—". */
export function formatChangeValue(field: string, value: AuditValue | undefined): string {
  if (value === undefined || value === '') return '—';
  if (typeof value === 'number' && field.endsWith('Cents')) return formatMoney(value);
  return String(value);
}

/** One changed field as a line: `field: from → to`. */
export const formatChange = (field: string, change: AuditEntry['changes'][string]) =>
  `${field}: ${formatChangeValue(field, change.from)} → ${formatChangeValue(field, change.to)}`;

/**
 * A record's history (audit.list), newest first: who, when, what, and each field that changed.
 * "Older" fetches the next page below. Its query lives under the record's key (queries.history),
 * so an edit of the record, or a live order event, refreshes it.
 */
export function HistoryPanel(props: { kind: RecordKind; id: string }) {
  const titleId = createUniqueId();
  const history = useInfiniteQuery(() => queries.history(props.kind, props.id));
  const entries = () => (history.isPending ? undefined : history.data?.pages.flatMap((page) => page.items));

  return (
    <section class="history card" aria-labelledby={titleId} data-testid="history">
      <h2 id={titleId}>History</h2>
      <Switch>
        <Match when={history.isError && !entries()}>
          <LoadError message={errorMessage(history.error)} onRetry={() => void history.refetch()} />
        </Match>
        <Match when={!entries()}>
          <BlockSkeleton label="history" height="4rem" />
        </Match>
        <Match when={entries()?.length === 0}>
          <EmptyState title="No changes recorded yet." />
        </Match>
        <Match when={entries()}>
          {(list) => (
            <ol class="history-list" aria-label="Changes, newest first">
              <For each={list()}>
                {(entry) => (
                  <li class="history-entry" data-audit-id={entry.id} data-action={entry.action}>
                    <p class="history-head">
                      <strong class="history-actor">{entry.actor?.username ?? 'system'}</strong>{' '}
                      <span class="history-action">{ACTION_WORDS[entry.action]}</span>{' '}
                      <time class="muted" datetime={entry.at}>
                        {formatDateTime(entry.at)}
                      </time>
                    </p>
                    <Show when={Object.keys(entry.changes).length > 0}>
                      <ul class="history-changes">
                        <For each={Object.entries(entry.changes)}>{([field, change]) => <li>{formatChange(field, change)}</li>}</For>
                      </ul>
                    </Show>
                  </li>
                )}
              </For>
            </ol>
          )}
        </Match>
      </Switch>
      <Show when={history.hasNextPage}>
        <button type="button" disabled={history.isFetchingNextPage} onClick={() => void history.fetchNextPage()}>
          {history.isFetchingNextPage ? 'Loading older…' : 'Older'}
        </button>
      </Show>
    </section>
  );
}
