import { checkImport } from '@pdash/contracts';
import { DEMO_HISTORY, demoFiles, importDemoHistory } from '@pdash/scripts/demo-history';
import { adminToken, startStack, trpcClient } from '@pdash/testing/bff';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * `npm start`'s first-start data (scripts/lib/demo-history.ts): 90 days of orders through the CSV
 * import, so that the Stats page shows daily bars and top suppliers at 7, 30 and 90 days.
 */
let stack: Awaited<ReturnType<typeof startStack>>;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

describe('the demo history', () => {
  it('is three valid CSV files whose orders span the last 90 days', () => {
    const files = demoFiles(Date.UTC(2026, 0, 1));
    for (const kind of ['customers', 'suppliers', 'orders'] as const) expect(checkImport(kind, files[kind]).ok, kind).toBe(true);
    const orders = checkImport('orders', files.orders);
    if (!orders.ok) throw new Error('invalid');
    const times = orders.rows.map((row) => Date.parse(row.createdAt!));
    expect(orders.rows).toHaveLength(DEMO_HISTORY.orders);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(Date.UTC(2026, 0, 1) - 90 * 86_400_000);
    expect(Math.max(...times)).toBeLessThan(Date.UTC(2026, 0, 1));
  });

  it('imports once (a second start imports nothing twice) and fills the stats at 7, 30 and 90 days', { timeout: 120_000 }, async () => {
    const token = await adminToken(stack.bff.url);
    const now = Date.now();
    expect(await importDemoHistory(stack.bff.url, token, now)).toEqual({
      customers: DEMO_HISTORY.customers,
      suppliers: DEMO_HISTORY.suppliers,
      orders: DEMO_HISTORY.orders,
    });
    // A second start, and one whose orders file differs (other dates): the same keys, nothing twice.
    await importDemoHistory(stack.bff.url, token, now);
    await importDemoHistory(stack.bff.url, token, now - 3_600_000);
    const client = trpcClient(stack.bff.url, { token });
    expect((await client.orders.list.query({ limit: 1 })).total).toBe(DEMO_HISTORY.orders);
    for (const days of [7, 30, 90]) {
      const stats = await client.orders.stats.query({ days });
      const active = stats.byDay.filter((d) => d.count > 0).length;
      expect(active, `${days} days`).toBeGreaterThanOrEqual(Math.min(days, 7) - 1);
      expect(stats.bySupplier.length, `${days} days`).toBeGreaterThan(1);
      expect(stats.bySupplier[0]!.name).not.toBe('');
    }
    expect((await client.orders.stats.query({ days: 90 })).count).toBeGreaterThan(DEMO_HISTORY.orders * 0.95);
  });
});
