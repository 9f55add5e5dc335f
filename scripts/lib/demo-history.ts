/**
 * `npm start`'s first-start data: customers, suppliers and ~1,500 orders spread over the last 90
 * days, imported through the CSV import (API.md "Import and export"), as a business would bring
 * its history in. Deterministic (one seed), and each file has its own Idempotency-Key, so a start
 * cut off midway completes the same import on the next one.
 */
import { csvLine, ORDER_COLUMNS, PARTY_COLUMNS } from '@pdash/contracts';

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Frances', 'Niklaus', 'Radia', 'John'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson', 'Allen', 'Wirth', 'Perlman', 'Backus'];
const TRADE = ['Steel', 'Paper', 'Coffee', 'Textiles', 'Timber', 'Glass', 'Spices', 'Tools', 'Cables', 'Ceramics'];
const PLACE = ['Northern', 'Harbour', 'Valley', 'Eastern', 'Coastal', 'Summit', 'River', 'Metro'];
const DAY_MS = 86_400_000;

export const DEMO_HISTORY = { customers: 40, suppliers: 12, orders: 1_500, days: 90 } as const;

/** The three CSV files, for a history ending `now`. */
export function demoFiles(now = Date.now()) {
  let state = 42;
  const rand = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const customers = Array.from({ length: DEMO_HISTORY.customers }, (_, i) => {
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    return { name: `${name} ${i + 1}`, email: `${name.toLowerCase().replace(' ', '.')}.${i + 1}@example.com`, phone: '', address: '' };
  });
  const suppliers = Array.from({ length: DEMO_HISTORY.suppliers }, (_, i) => {
    const name = `${pick(PLACE)} ${pick(TRADE)} ${i + 1}`;
    return {
      name,
      email: `sales.${i + 1}@${name.split(' ')[1]!.toLowerCase()}.example`,
      phone: `+1 555 01${String(i).padStart(2, '0')}`,
      address: '',
    };
  });
  // Some suppliers sell more (a few large accounts), and business grows over the period.
  const weights = suppliers.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const weighted = () => {
    let r = rand() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r <= 0) return suppliers[i]!;
    }
    return suppliers.at(-1)!;
  };
  const start = now - DEMO_HISTORY.days * DAY_MS;
  const orders = Array.from({ length: DEMO_HISTORY.orders }, () => {
    const at = start + Math.sqrt(rand()) * (now - start - 60_000);
    return {
      customerEmail: pick(customers).email,
      supplierEmail: weighted().email,
      totalCents: Math.round(500 + rand() * rand() * 400_000),
      createdAt: new Date(at).toISOString(),
    };
  }).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const file = <T extends Record<string, unknown>>(columns: readonly string[], rows: T[]) =>
    csvLine(columns) + rows.map((row) => csvLine(columns.map((c) => row[c] as string | number | undefined))).join('');
  return {
    customers: file(PARTY_COLUMNS, customers),
    suppliers: file(PARTY_COLUMNS, suppliers),
    orders: file(
      ORDER_COLUMNS.filter((c) => c !== 'customerId' && c !== 'supplierId'),
      orders,
    ),
  };
}

/**
 * Imports the demo history as `token` (an admin: the orders carry createdAt), ending `now`. Each
 * file has a key of its own: a start cut off midway, started again, completes the same import (the
 * orders' file, whose dates move with time, is taken as done when its key already made one).
 */
export async function importDemoHistory(url: string, token: string, now = Date.now()) {
  const files = demoFiles(now);
  const created: Record<string, number> = {};
  for (const kind of ['customers', 'suppliers', 'orders'] as const) {
    const response = await fetch(`${url}/api/${kind}/import`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}`, 'idempotency-key': `demo-history-v1-${kind}` },
      body: files[kind],
    });
    const body = (await response.json()) as { created?: number; error?: { message: string } };
    const madeBefore = response.status === 400 && /^Idempotency-Key: /.test(body.error?.message ?? '');
    if (response.status !== 201 && !madeBefore) throw new Error(`demo ${kind} import: ${response.status} ${body.error?.message ?? ''}`);
    created[kind] = body.created ?? 0;
  }
  return created;
}
