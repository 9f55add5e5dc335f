import { optionalPartyFields, PARTY_FIELDS } from '@pdash/contracts';
import { A, useNavigate, useParams } from '@solidjs/router';
import { useQuery } from '@tanstack/solid-query';
import { createSignal, For, Match, Show, Switch } from 'solid-js';
import { HistoryPanel } from '../components/HistoryPanel';
import { OrdersTable } from '../components/OrdersTable';
import { capitalize, DeletePartyDialog, PartyDialog } from '../components/PartyDialog';
import { RecordHead } from '../components/RecordHead';
import { BlockSkeleton, EmptyState, LoadError } from '../components/States';
import { errorMessage, isNotFound } from '../lib/errors';
import { formatCount, formatDateTime, formatMoney } from '../lib/format';
import { PARTY_WORDS } from '../lib/parties';
import { loaded, MAX_SUM_PAGES, queries } from '../lib/queries';
import { exportUrl } from '../lib/transfer';
import type { OrderFilter, PartyKind } from '../lib/trpc';

/** One customer or supplier: the record (editable by editors), its orders, what they add up to, and its history. */
export default function PartyDetail(props: { kind: PartyKind }) {
  const params = useParams<{ id: string }>();
  const navigate = useNavigate();
  const words = () => PARTY_WORDS[props.kind];
  const party = useQuery(() => queries.party(props.kind, params.id));
  const filter = (): OrderFilter => (props.kind === 'customers' ? { customerId: params.id } : { supplierId: params.id });
  const totals = useQuery(() => queries.orderTotals(filter()));
  const [editing, setEditing] = createSignal(false);
  const [deleting, setDeleting] = createSignal(false);

  return (
    <section class="page" aria-labelledby="party-title">
      <p class="breadcrumb">
        <A href={`/${props.kind}`}>← {words().title}</A>
      </p>
      <Switch>
        <Match when={party.isError && isNotFound(party.error)}>
          <h1 id="party-title">No such {words().one}</h1>
          <EmptyState title={`There is no ${words().one} with this id; it may have been deleted.`}>
            <A href={`/${props.kind}`}>All {words().many}</A>
          </EmptyState>
        </Match>
        <Match when={party.isError && !loaded(party)}>
          <h1 id="party-title">{capitalize(words().one)}</h1>
          <LoadError message={errorMessage(party.error)} onRetry={() => void party.refetch()} />
        </Match>
        <Match when={!loaded(party)}>
          <h1 id="party-title" class="visually-hidden">
            {capitalize(words().one)}
          </h1>
          <BlockSkeleton label={words().one} />
        </Match>
        <Match when={loaded(party)}>
          {(record) => (
            <>
              <RecordHead id="party-title" title={record().name} onEdit={() => setEditing(true)} onDelete={() => setDeleting(true)} />
              <dl class="record card">
                <For each={optionalPartyFields}>
                  {(field) => (
                    <div>
                      <dt>{PARTY_FIELDS[field].label}</dt>
                      <dd>{record()[field] ?? '—'}</dd>
                    </div>
                  )}
                </For>
                <div>
                  <dt>Created</dt>
                  <dd>{formatDateTime(record().createdAt)}</dd>
                </div>
                <div>
                  <dt>Version</dt>
                  <dd>{record().version}</dd>
                </div>
              </dl>
              <Show when={editing()}>
                <PartyDialog kind={props.kind} party={record()} onClose={() => setEditing(false)} />
              </Show>
              <Show when={deleting()}>
                <DeletePartyDialog
                  kind={props.kind}
                  party={record()}
                  onClose={() => setDeleting(false)}
                  onDeleted={() => navigate(`/${props.kind}`, { replace: true })}
                />
              </Show>
            </>
          )}
        </Match>
      </Switch>

      <Show when={!(party.isError && isNotFound(party.error))}>
        <div class="page-head section-head">
          <h2>Orders</h2>
          <a class="button" href={exportUrl('orders', filter())} download="">
            Export orders
          </a>
        </div>
        <dl class="summary" aria-label="Order totals">
          <div>
            <dt>Orders</dt>
            <dd data-testid="party-orders-count">
              <Show when={loaded(totals)} fallback="…">
                {(t) => formatCount(t().count)}
              </Show>
            </dd>
          </div>
          <div>
            <dt>Total</dt>
            <dd data-testid="party-orders-total">
              <Show when={loaded(totals)} fallback="…">
                {(t) => (
                  <>
                    {formatMoney(t().sumCents)}
                    <Show when={!t().complete}>
                      <span class="muted"> (first {formatCount(MAX_SUM_PAGES * 100)} orders)</span>
                    </Show>
                  </>
                )}
              </Show>
            </dd>
          </div>
        </dl>
        <OrdersTable
          filter={filter()}
          caption={`Orders of this ${words().one}, newest first`}
          empty={<EmptyState title={`This ${words().one} has no orders yet.`} />}
        />
        <HistoryPanel kind={props.kind} id={params.id} />
      </Show>
    </section>
  );
}
