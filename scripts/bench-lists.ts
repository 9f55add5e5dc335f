/**
 * List scaling (issue 13, point 4): loads 1k, 10k and 100k customers and orders (orders spread over
 * 50 customers and 50 suppliers) straight into a FerretDB of our build that this script starts, then
 * times the services' own list code (PartyStore.list, OrdersStore.list: the page query and its total,
 * side by side, as the services run them) and prints p50/p99 per size.
 *
 *   npm run bench:lists                 # 1000,10000,100000
 *   BENCH_SIZES=1000,10000 npm run bench:lists
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OrdersStore } from '@pdash/backend/orders/store';
import { PartyStore } from '@pdash/backend/party/store';
import { MongoClient, ObjectId } from 'mongodb';
import { startFerretDB } from './lib/infra.js';

const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 3000);
const dataDir = mkdtempSync(join(tmpdir(), 'pdash-bench-lists-'));
const ferretdb = await startFerretDB({ dataDir: join(dataDir, 'ferretdb') });
const client = await new MongoClient(ferretdb.url, { directConnection: true }).connect();

try {
  const db = client.db('bench_lists');
  const customers = new PartyStore(db, 'customers');
  const orders = new OrdersStore(db);
  await customers.ensureIndexes();
  await orders.ensureIndexes();
  const customerIds = Array.from({ length: 50 }, () => new ObjectId());
  const supplierIds = Array.from({ length: 50 }, () => new ObjectId());
  const words = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell', 'cyberdyne', 'soylent'];
  const t0 = Date.UTC(2026, 0, 1);
  let loaded = 0;

  /** Median and 99th percentile of `fn` (one warm-up, 3 to 40 runs within the budget). */
  async function time(fn: () => Promise<unknown>) {
    await fn();
    const times: number[] = [];
    const started = performance.now();
    while (times.length < 40 && (times.length < 3 || performance.now() - started < BUDGET_MS)) {
      const t = performance.now();
      await fn();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))]!;
    return { p50: at(0.5), p99: at(0.99), runs: times.length };
  }

  const rows: { size: number; case: string; p50: number; p99: number; runs: number }[] = [];
  for (const size of sizes) {
    for (; loaded < size; loaded += 1_000) {
      const n = Math.min(1_000, size - loaded);
      const at = (j: number) => new Date(t0 + (loaded + j) * 1_000);
      await customers.collection.insertMany(
        Array.from({ length: n }, (_, j) => ({
          _id: new ObjectId(),
          name: `${words[(loaded + j) % 10]} ${words[((loaded + j) * 7) % 10]} ${loaded + j}`,
          email: `c${loaded + j}@example.com`,
          createdAt: at(j),
          updatedAt: at(j),
          version: 1,
        })),
      );
      await orders.collection.insertMany(
        Array.from({ length: n }, (_, j) => ({
          _id: new ObjectId(),
          customerId: customerIds[(loaded + j) % 50]!,
          supplierId: supplierIds[((loaded + j) * 3) % 50]!,
          totalCents: (loaded + j) % 10_000,
          createdAt: at(j),
          updatedAt: at(j),
          day: at(j).toISOString().slice(0, 10),
          version: 1,
        })),
      );
    }
    const later = async <T extends { nextCursor?: string }>(first: () => Promise<T>, deeper: (cursor: string) => Promise<T>) => {
      // the cursor of the page in the middle of the list
      let page = await first();
      for (let i = 0; i < 3 && page.nextCursor; i++) page = await deeper(page.nextCursor);
      return page.nextCursor!;
    };
    const customer = { field: 'customerId' as const, id: customerIds[7]! };
    const supplier = { field: 'supplierId' as const, id: supplierIds[11]! };
    const customersCursor = await later(
      () => customers.list({ limit: 20 }),
      (cursor) => customers.list({ limit: 20, cursor }),
    );
    const ordersCursor = await later(
      () => orders.list({ party: customer, limit: 20 }),
      (cursor) => orders.list({ party: customer, limit: 20, cursor }),
    );
    const cases: Record<string, () => Promise<unknown>> = {
      'customers.list': () => customers.list({ limit: 20 }),
      'customers.list, 4th page': () => customers.list({ limit: 20, cursor: customersCursor }),
      // a word in a fifth of the names; a number in one (or a few); one character, in most
      'customers.list q=globex': () => customers.list({ limit: 20, q: 'globex' }),
      'customers.list q=<a number>': () => customers.list({ limit: 20, q: String(Math.floor(size * 0.37)) }),
      'customers.list q=e': () => customers.list({ limit: 20, q: 'e' }),
      'customers.list q=zq (none)': () => customers.list({ limit: 20, q: 'zq' }),
      'orders.list': () => orders.list({ limit: 20 }),
      'orders.list by customer': () => orders.list({ party: customer, limit: 20 }),
      'orders.list by customer, 4th page': () => orders.list({ party: customer, limit: 20, cursor: ordersCursor }),
      'orders.list by supplier': () => orders.list({ party: supplier, limit: 20 }),
    };
    for (const [name, fn] of Object.entries(cases)) {
      const r = await time(fn);
      rows.push({ size, case: name, ...r });
      console.log(
        `${String(size).padStart(7)}  ${name.padEnd(36)} p50 ${r.p50.toFixed(1).padStart(8)} ms  p99 ${r.p99.toFixed(1).padStart(8)} ms  (${r.runs} runs)`,
      );
    }
  }
  console.log(JSON.stringify(rows));
} finally {
  await client.close();
  await ferretdb.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
