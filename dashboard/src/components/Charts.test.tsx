import { render, screen } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { formatMoney } from '../lib/format';
import { BarChart, DayChart } from './Charts';

describe('charts', () => {
  it('draws one bar per day, scaled to the best day, with the exact values on hover and a text alternative', () => {
    const days = [
      { day: '2026-03-01', count: 2, revenueCents: 5000 },
      { day: '2026-03-02', count: 0, revenueCents: 0 },
      { day: '2026-03-03', count: 4, revenueCents: 10000 },
    ];
    const { container } = render(() => <DayChart days={days} />);
    const chart = screen.getByRole('img');
    expect(chart.getAttribute('aria-label')).toBe('Revenue and orders per day over 3 days: $150.00 in all.');
    const bars = [...container.querySelectorAll('rect.bar')];
    expect(bars).toHaveLength(3);
    const heights = bars.map((bar) => Number(bar.getAttribute('height')));
    expect(heights[2]).toBeCloseTo(2 * heights[0]!);
    expect(heights[1]).toBe(0);
    expect(bars[2]!.querySelector('title')?.textContent).toBe('Mar 3: $100.00, 4 orders');
    expect(container.querySelector('polyline')?.getAttribute('points')?.split(' ')).toHaveLength(3);
  });

  it('draws the top suppliers as bars proportional to their revenue', () => {
    const { container } = render(() => (
      <BarChart
        label="Top suppliers"
        format={formatMoney}
        items={[
          { label: 'Globex', value: 40000, note: '4 orders' },
          { label: 'Initech', value: 10000, note: '1 order' },
        ]}
      />
    ));
    const widths = [...container.querySelectorAll('rect.bar')].map((bar) => Number(bar.getAttribute('width')));
    expect(widths[0]).toBeCloseTo(4 * widths[1]!);
    expect(screen.getByText('$400.00')).toBeTruthy();
    expect(screen.getByText('Initech')).toBeTruthy();
  });
});
