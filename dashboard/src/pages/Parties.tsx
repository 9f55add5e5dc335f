import { optionalPartyFields, PARTY_FIELDS } from '@pdash/contracts';
import { A } from '@solidjs/router';
import { keepPreviousData, useQuery } from '@tanstack/solid-query';
import { createSignal, For, Match, onCleanup, Show, Switch } from 'solid-js';
import { createPager, PagerNav } from '../components/Pager';
import { DeletePartyDialog, PartyDialog } from '../components/PartyDialog';
import { EmptyState, LoadError, TableSkeleton } from '../components/States';
import { TransferButtons } from '../components/Transfer';
import { useCanEdit } from '../lib/access';
import { errorMessage } from '../lib/errors';
import { formatCount } from '../lib/format';
import { PARTY_WORDS } from '../lib/parties';
import { loaded, PAGE_SIZE, queries } from '../lib/queries';
import { exportUrl } from '../lib/transfer';
import type { Party, PartyKind } from '../lib/trpc';

/** The columns beside the name: the fields that fit a table row (@pdash/contracts). */
const TABLE_FIELDS = optionalPartyFields.filter((field) => PARTY_FIELDS[field].inTable);

const SEARCH_DEBOUNCE_MS = 250;

/** Customers or suppliers: searchable by name, paginated, with create, edit and delete for editors. */
export default function Parties(props: { kind: PartyKind }) {
  const words = () => PARTY_WORDS[props.kind];
  const canEdit = useCanEdit();
  const [text, setText] = createSignal('');
  const [q, setQ] = createSignal('');
  const pager = createPager(() => [props.kind, q()]);
  const list = useQuery(() => ({
    ...queries.parties(props.kind, { q: q() || undefined, limit: PAGE_SIZE, cursor: pager.cursor() }),
    placeholderData: keepPreviousData,
  }));
  const page = () => loaded(list);

  const [creating, setCreating] = createSignal(false);
  const [editing, setEditing] = createSignal<Party>();
  const [deleting, setDeleting] = createSignal<Party>();

  let debounce: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(debounce));
  const onSearch = (value: string) => {
    setText(value);
    clearTimeout(debounce);
    debounce = setTimeout(() => setQ(value.trim()), SEARCH_DEBOUNCE_MS);
  };

  return (
    <section class="page" aria-labelledby="parties-title">
      <div class="page-head">
        <h1 id="parties-title">{words().title}</h1>
        <div class="buttons">
          <TransferButtons kind={props.kind} exportHref={exportUrl(props.kind, { q: q() })} />
          <Show when={canEdit()}>
            <button type="button" class="primary" onClick={() => setCreating(true)}>
              New {words().one}
            </button>
          </Show>
        </div>
      </div>

      <div class="filters">
        <div class="field">
          <label for="party-search">Search {words().many}</label>
          <input
            id="party-search"
            type="search"
            placeholder="Part of the name"
            value={text()}
            onInput={(e) => onSearch(e.currentTarget.value)}
          />
        </div>
        <p class="muted count" aria-live="polite">
          <Show when={page()}>{(current) => `${formatCount(current().total)} ${words().many}${q() ? ` matching “${q()}”` : ''}`}</Show>
        </p>
      </div>

      <Switch>
        <Match when={list.isError && !page()}>
          <LoadError message={errorMessage(list.error)} onRetry={() => void list.refetch()} />
        </Match>
        <Match when={!page()}>
          <TableSkeleton columns={4} label={words().many} />
        </Match>
        <Match when={page()?.items.length === 0}>
          <EmptyState title={q() ? `No ${words().many} match “${q()}”.` : `No ${words().many} yet.`}>
            <Show when={!q() && canEdit()}>
              <button type="button" class="primary" onClick={() => setCreating(true)}>
                Create the first {words().one}
              </button>
            </Show>
          </EmptyState>
        </Match>
        <Match when={page()}>
          {(current) => (
            <>
              <div class="table-wrap" classList={{ stale: list.isPlaceholderData }}>
                <table class="data parties-table">
                  <caption class="visually-hidden">{words().title}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <For each={TABLE_FIELDS}>{(field) => <th scope="col">{PARTY_FIELDS[field].label}</th>}</For>
                      <Show when={canEdit()}>
                        <th scope="col">
                          <span class="visually-hidden">Actions</span>
                        </th>
                      </Show>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={current().items}>
                      {(party) => (
                        <tr data-party-id={party.id}>
                          <td data-label="Name">
                            <A href={`/${props.kind}/${party.id}`}>{party.name}</A>
                          </td>
                          <For each={TABLE_FIELDS}>
                            {(field) => <td data-label={PARTY_FIELDS[field].label}>{party[field] ?? <span class="muted">—</span>}</td>}
                          </For>
                          <Show when={canEdit()}>
                            <td class="actions">
                              <button type="button" class="link" aria-label={`Edit ${party.name}`} onClick={() => setEditing(party)}>
                                Edit
                              </button>
                              <button
                                type="button"
                                class="link danger-link"
                                aria-label={`Delete ${party.name}`}
                                onClick={() => setDeleting(party)}
                              >
                                Delete
                              </button>
                            </td>
                          </Show>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
              <PagerNav
                pager={pager}
                nextCursor={current().nextCursor}
                total={current().total}
                pageSize={PAGE_SIZE}
                label={words().title}
              />
            </>
          )}
        </Match>
      </Switch>

      <Show when={creating()}>
        <PartyDialog kind={props.kind} onClose={() => setCreating(false)} />
      </Show>
      <Show when={editing()}>{(party) => <PartyDialog kind={props.kind} party={party()} onClose={() => setEditing()} />}</Show>
      <Show when={deleting()}>{(party) => <DeletePartyDialog kind={props.kind} party={party()} onClose={() => setDeleting()} />}</Show>
    </section>
  );
}
