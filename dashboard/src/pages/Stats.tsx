import { useQuery } from '@tanstack/solid-query';
import { createSignal, For, Match, Show, Switch } from 'solid-js';
import { BarChart, DayChart } from '../components/Charts';
import { BlockSkeleton, EmptyState, LoadError } from '../components/States';
import { errorMessage } from '../lib/errors';
import { formatCount, formatDay, formatMoney } from '../lib/format';
import { loaded, queries } from '../lib/queries';

const PERIODS = [7, 30, 90, 365] as const;

/** Orders and revenue per day, and the suppliers that bring in the most (orders.stats). */
export default function Stats() {
  const [days, setDays] = createSignal<number>(30);
  const stats = useQuery(() => queries.stats(days()));
  const data = () => loaded(stats);

  return (
    <section class="page" aria-labelledby="stats-title">
      <div class="page-head">
        <h1 id="stats-title">Stats</h1>
        <fieldset class="segmented">
          <legend class="visually-hidden">Period</legend>
          <For each={PERIODS}>
            {(period) => (
              <label classList={{ checked: days() === period }}>
                <input type="radio" name="period" value={period} checked={days() === period} onChange={() => setDays(period)} />
                {period} days
              </label>
            )}
          </For>
        </fieldset>
      </div>

      <Switch>
        <Match when={stats.isError && !data()}>
          <LoadError message={errorMessage(stats.error)} onRetry={() => void stats.refetch()} />
        </Match>
        <Match when={!data()}>
          <BlockSkeleton label="stats" height="20rem" />
        </Match>
        <Match when={data()}>
          {(s) => (
            <>
              <dl class="summary" aria-label="Totals">
                <div>
                  <dt>Orders, last {days()} days</dt>
                  <dd data-testid="stats-count">{formatCount(s().count)}</dd>
                </div>
                <div>
                  <dt>Revenue, last {days()} days</dt>
                  <dd data-testid="stats-revenue">{formatMoney(s().revenueCents)}</dd>
                </div>
              </dl>
              <figure class="card">
                <figcaption>
                  Revenue (bars) and orders (line) per day, UTC
                  <span class="legend">
                    <span class="swatch bar" aria-hidden="true" /> revenue <span class="swatch line" aria-hidden="true" /> orders
                  </span>
                </figcaption>
                <Show when={s().count > 0} fallback={<EmptyState title="No orders in this period." />}>
                  <DayChart days={s().byDay} />
                </Show>
                <details>
                  <summary>As a table</summary>
                  <div class="table-wrap">
                    <table class="data compact">
                      <thead>
                        <tr>
                          <th scope="col">Day</th>
                          <th scope="col" class="num">
                            Orders
                          </th>
                          <th scope="col" class="num">
                            Revenue
                          </th>
                        </tr>
                      </thead>
                      <tbody>
                        <For each={s().byDay}>
                          {(d) => (
                            <tr>
                              <td>{formatDay(d.day)}</td>
                              <td class="num">{formatCount(d.count)}</td>
                              <td class="num">{formatMoney(d.revenueCents)}</td>
                            </tr>
                          )}
                        </For>
                      </tbody>
                    </table>
                  </div>
                </details>
              </figure>
              <figure class="card">
                <figcaption>Top suppliers by revenue</figcaption>
                <Switch>
                  <Match when={s().bySupplier.length === 0}>
                    <EmptyState title="No orders in this period." />
                  </Match>
                  <Match when={s().bySupplier.length > 0}>
                    <BarChart
                      label={`Top suppliers by revenue: ${s()
                        .bySupplier.map((b) => `${b.name || '(deleted)'} ${formatMoney(b.revenueCents)}`)
                        .join(', ')}`}
                      format={formatMoney}
                      items={s().bySupplier.map((b) => ({
                        label: b.name || '(deleted)',
                        value: b.revenueCents,
                        note: `${formatCount(b.count)} orders`,
                      }))}
                    />
                  </Match>
                </Switch>
              </figure>
            </>
          )}
        </Match>
      </Switch>
    </section>
  );
}
