/**
 * `npm run bench`: the public API measured through Nginx and two BFF replicas (the whole stack,
 * started here on free ports with its own FerretDB and Redis), with autocannon.
 * Prints a table and writes bench-results/api.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from '@pdash/backend-shared/main';
import autocannon from 'autocannon';
import { type BenchResult, printTable, writeResults } from './lib/bench.js';
import { createClient } from './lib/client.js';
import { freePort } from './lib/infra.js';
import { DEMO_ADMIN_ENV, DEMO_USER, loginOrSignUp } from './seed.js';
import { startStack } from './stack.js';

/** The import benchmark (issue: 10,000 orders in ≤ 30 s on this 2-core machine with FerretDB). */
const IMPORT_ORDERS = 10_000;

/** One CSV import of `count` orders between one customer and one supplier, timed end to end. */
async function timeImport(url: string, token: string, customerId: string, supplierId: string, count: number) {
  const csv = `customerId,supplierId,totalCents\n${Array.from({ length: count }, (_, i) => `${customerId},${supplierId},${100 + i}`).join('\n')}\n`;
  const started = performance.now();
  const response = await fetch(`${url}/api/orders/import`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', authorization: `Bearer ${token}`, 'idempotency-key': `bench-${Date.now()}` },
    body: csv,
  });
  const ms = Math.round(performance.now() - started);
  if (response.status !== 201) throw new Error(`orders import: ${response.status} ${await response.text()}`);
  return { ms };
}

async function main() {
  const durationSeconds = Number(process.env.BENCH_DURATION_S ?? 10);
  const dataDir = mkdtempSync(join(tmpdir(), 'pdash-bench-'));
  const stack = await startStack({
    dataDir,
    port: await freePort(),
    freePorts: true,
    env: { LOG_LEVEL: 'warn', ...DEMO_ADMIN_ENV },
    log: () => {},
  });
  const results: BenchResult[] = [];
  try {
    const token = await loginOrSignUp(stack.url, DEMO_USER);
    const client = createClient(stack.url, () => token);
    const customer = await client.customers.create.mutate({ name: 'Bench customer', email: 'bench@example.com' });
    const supplier = await client.suppliers.create.mutate({ name: 'Bench supplier' });
    for (let i = 0; i < 50; i++) await client.customers.create.mutate({ name: `Listed customer ${i}` });
    const auth = { authorization: `Bearer ${token}` };
    const byIdInput = encodeURIComponent(JSON.stringify({ id: customer.id }));

    const cases: { name: string; connections: number; path: string; options?: Partial<autocannon.Options> }[] = [];
    for (const connections of [1, 64]) {
      cases.push({ name: 'customers.byId tRPC (cached)', connections, path: `/trpc/customers.byId?input=${byIdInput}` });
      cases.push({ name: 'customers.byId REST (cached)', connections, path: `/api/customers/${customer.id}` });
    }
    cases.push({ name: 'healthz (no token, no cache)', connections: 64, path: '/healthz' });
    cases.push({ name: 'customers.list REST', connections: 64, path: '/api/customers?limit=20' });
    cases.push({
      name: 'orders.create REST',
      connections: 64,
      path: '/api/orders',
      options: {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ customerId: customer.id, supplierId: supplier.id, totalCents: 1999 }),
      },
    });

    // Unrecorded warm-up of every read: the first seconds of a fresh process run unoptimised code
    // (JIT), which made the 1-connection rows, measured first, twice as slow as they are.
    for (const path of new Set(cases.filter((bench) => !bench.options?.method).map((bench) => bench.path)))
      await autocannon({ url: `${stack.url}${path}`, connections: 8, duration: 2, headers: auth });

    for (const bench of cases) {
      const result = await autocannon({
        url: `${stack.url}${bench.path}`,
        connections: bench.connections,
        duration: durationSeconds,
        headers: auth,
        ...bench.options,
      });
      const errors = result.errors + result.timeouts + result.non2xx;
      results.push({
        name: bench.name,
        concurrency: bench.connections,
        requests: result.requests.total,
        errors,
        rps: Math.round(result.requests.average),
        p50: result.latency.p50,
        p99: result.latency.p99,
      });
      console.error(`${bench.name} @${bench.connections}: ${Math.round(result.requests.average)} req/s`);
    }
    const imported = await timeImport(stack.url, token, customer.id, supplier.id, IMPORT_ORDERS);
    console.error(`orders import: ${IMPORT_ORDERS} orders in ${(imported.ms / 1000).toFixed(1)} s`);
    printTable(results);
    console.log(
      `\norders import (CSV, one request): ${IMPORT_ORDERS} orders in ${(imported.ms / 1000).toFixed(1)} s (${Math.round(IMPORT_ORDERS / (imported.ms / 1000))} orders/s)`,
    );
    writeResults('api', results, {
      durationSeconds,
      through: 'nginx → 2 BFF replicas',
      ordersImport: { orders: IMPORT_ORDERS, ms: imported.ms },
    });
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

runMain(import.meta.url, 'bench', main, { oneShot: true });
