import { For, Show } from 'solid-js';
import { formatCount, formatDay, formatMoney, formatMoneyShort } from '../lib/format';
import type { Stats } from '../lib/trpc';

/*
 * Plain SVG charts: a few dozen shapes, no chart library. Each scales to its container's width
 * (viewBox), carries a text alternative, and shows exact values on hover (<title>).
 */

const W = 640;
const H = 220;
const PAD = { top: 16, right: 12, bottom: 28, left: 64 };

/** Revenue per day as bars, the number of orders per day as a line over them. */
export function DayChart(props: { days: Stats['byDay'] }) {
  const maxRevenue = () => Math.max(1, ...props.days.map((d) => d.revenueCents));
  const maxCount = () => Math.max(1, ...props.days.map((d) => d.count));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = () => innerW / Math.max(1, props.days.length);
  const x = (i: number) => PAD.left + i * slot();
  const yRevenue = (cents: number) => PAD.top + innerH - (cents / maxRevenue()) * innerH;
  const yCount = (n: number) => PAD.top + innerH - (n / maxCount()) * innerH;
  const line = () => props.days.map((d, i) => `${(x(i) + slot() / 2).toFixed(1)},${yCount(d.count).toFixed(1)}`).join(' ');
  const labelEvery = () => Math.max(1, Math.ceil(props.days.length / 6));
  const total = () => props.days.reduce((sum, d) => sum + d.revenueCents, 0);

  return (
    <svg
      class="chart"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={`Revenue and orders per day over ${props.days.length} days: ${formatMoney(total())} in all.`}
    >
      <line class="axis" x1={PAD.left} y1={PAD.top + innerH} x2={W - PAD.right} y2={PAD.top + innerH} />
      <text class="tick" x={PAD.left - 6} y={PAD.top + 4} text-anchor="end">
        {formatMoneyShort(maxRevenue())}
      </text>
      <text class="tick" x={PAD.left - 6} y={PAD.top + innerH} text-anchor="end">
        {formatMoneyShort(0)}
      </text>
      <For each={props.days}>
        {(d, i) => (
          <g>
            <rect
              class="bar"
              x={x(i()) + slot() * 0.15}
              y={yRevenue(d.revenueCents)}
              width={Math.max(1, slot() * 0.7)}
              height={PAD.top + innerH - yRevenue(d.revenueCents)}
            >
              <title>{`${formatDay(d.day)}: ${formatMoney(d.revenueCents)}, ${formatCount(d.count)} orders`}</title>
            </rect>
            <Show when={i() % labelEvery() === 0}>
              <text class="tick" x={x(i()) + slot() / 2} y={H - 8} text-anchor="middle">
                {formatDay(d.day)}
              </text>
            </Show>
          </g>
        )}
      </For>
      <polyline class="line" points={line()} />
    </svg>
  );
}

/** Horizontal bars: one per item, longest first. */
export function BarChart(props: {
  items: { label: string; value: number; note: string }[];
  format: (value: number) => string;
  label: string;
}) {
  const ROW = 30;
  const LABEL = 180;
  const height = () => Math.max(ROW, props.items.length * ROW);
  const max = () => Math.max(1, ...props.items.map((item) => item.value));
  const barW = (value: number) => ((W - LABEL - 110) * value) / max();
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${height()}`} role="img" aria-label={props.label}>
      <For each={props.items}>
        {(item, i) => (
          <g transform={`translate(0 ${i() * ROW})`}>
            <text class="bar-label" x={LABEL - 8} y={ROW / 2 + 5} text-anchor="end">
              {item.label.length > 22 ? `${item.label.slice(0, 21)}…` : item.label}
            </text>
            <rect class="bar" x={LABEL} y={5} width={Math.max(1, barW(item.value))} height={ROW - 10}>
              <title>{`${item.label}: ${props.format(item.value)} (${item.note})`}</title>
            </rect>
            <text class="bar-value" x={LABEL + barW(item.value) + 6} y={ROW / 2 + 5}>
              {props.format(item.value)}
            </text>
          </g>
        )}
      </For>
    </svg>
  );
}
