/**
 * `npm run bench:backend`: the backend services measured straight over gRPC, each service its own
 * process as in production, against a FerretDB and a Redis this script starts on free ports.
 * Prints a table and writes bench-results/backend.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServiceClient } from '@pdash/backend-shared/grpc-client';
import { runMain } from '@pdash/backend-shared/main';
import { AuthServiceDefinition } from '@pdash/proto/auth/v1/auth';
import { CustomersServiceDefinition } from '@pdash/proto/customers/v1/customers';
import { OrdersServiceDefinition } from '@pdash/proto/orders/v1/orders';
import { SuppliersServiceDefinition } from '@pdash/proto/suppliers/v1/suppliers';
import { Redis } from 'ioredis';
import { HealthDefinition } from 'nice-grpc-server-health';
import { type BenchResult, printTable, runCase, writeResults } from './lib/bench.js';
import { freePort, startFerretDB, startRedis } from './lib/infra.js';
import { Supervisor } from './lib/supervisor.js';
import { BACKEND_SERVICES, backendSpecs, tsxProcess } from './lib/topology.js';

async function main() {
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 5_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'pdash-bench-'));
  const ferret = await startFerretDB({ dataDir });
  const redisServer = await startRedis();
  const ports = Object.fromEntries(await Promise.all(BACKEND_SERVICES.map(async (s) => [s, await freePort()]))) as Record<
    (typeof BACKEND_SERVICES)[number],
    number
  >;
  const supervisor = new Supervisor();
  const results: BenchResult[] = [];
  try {
    for (const spec of backendSpecs({
      mongoUrl: ferret.url,
      redisUrl: redisServer.url,
      ports,
      env: { LOG_LEVEL: 'warn', SIGNUP_MODE: 'open' },
    })) {
      await supervisor.start(spec);
    }
    const customers = createServiceClient(CustomersServiceDefinition, `127.0.0.1:${ports.customers}`).client;
    const suppliers = createServiceClient(SuppliersServiceDefinition, `127.0.0.1:${ports.suppliers}`).client;
    const orders = createServiceClient(OrdersServiceDefinition, `127.0.0.1:${ports.orders}`).client;
    const auth = createServiceClient(AuthServiceDefinition, `127.0.0.1:${ports.auth}`).client;
    const redis = new Redis(redisServer.url);

    // The floor: a health check on a bare nice-grpc server, then on a service (its call middleware).
    const barePort = await freePort();
    await supervisor.start({
      name: 'bare-grpc',
      ...tsxProcess('scripts/lib/bare-grpc-server.ts'),
      env: { GRPC_PORT: String(barePort) },
      port: barePort,
    });
    const bareHealth = createServiceClient(HealthDefinition, `127.0.0.1:${barePort}`).client;
    const customersHealth = createServiceClient(HealthDefinition, `127.0.0.1:${ports.customers}`).client;
    for (const concurrency of [1, 32]) {
      results.push(
        await runCase({ name: 'floor: Health.Check, bare server', concurrency, durationMs, call: () => bareHealth.check({ service: '' }) }),
      );
      results.push(
        await runCase({ name: 'Health.Check, customers', concurrency, durationMs, call: () => customersHealth.check({ service: '' }) }),
      );
    }
    await supervisor.stop('bare-grpc');

    const records = await Promise.all(Array.from({ length: 32 }, (_, i) => customers.create({ name: `Bench customer ${i}` })));
    const supplier = await suppliers.create({ name: 'Bench supplier' });
    const key = (worker: number) => `customers:${records[worker]!.id}`;

    for (const concurrency of [1, 32]) {
      results.push(
        await runCase({
          name: 'customers.Get uncached',
          concurrency,
          durationMs,
          before: async (worker) => void (await redis.del(key(worker))),
          call: (worker) => customers.get({ id: records[worker]!.id }),
        }),
      );
      results.push(
        await runCase({
          name: 'customers.Get cached',
          concurrency,
          durationMs,
          call: (worker) => customers.get({ id: records[worker]!.id }),
        }),
      );
    }

    await auth.signUp({ username: 'bench', email: 'bench@example.com', password: 'bench-password-1' });
    const { accessToken } = await auth.logIn({ login: 'bench', password: 'bench-password-1', clientAddress: '127.0.0.1' });
    for (const concurrency of [1, 32]) {
      results.push(
        await runCase({ name: 'auth.VerifyToken', concurrency, durationMs, call: () => auth.verifyToken({ token: accessToken }) }),
      );
    }
    for (const concurrency of [1, 32]) {
      results.push(
        await runCase({
          name: 'orders.Create',
          concurrency,
          durationMs,
          call: (worker) => orders.create({ customerId: records[worker]!.id, supplierId: supplier.id, totalCents: 1234 }),
        }),
      );
    }
    redis.disconnect();
    printTable(results);
    writeResults('backend', results, { durationMs, cpus: (await import('node:os')).cpus().length });
  } finally {
    await supervisor.stopAll();
    await redisServer.stop();
    await ferret.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(0);
}

runMain(import.meta.url, 'bench-backend', main, { oneShot: true });
