import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPartyService } from '@pdash/backend/party';
import { createServiceClient } from '@pdash/backend-shared/grpc-client';
import type { RunningService } from '@pdash/backend-shared/server';
import { AuthServiceDefinition } from '@pdash/proto/auth/v1/auth';
import { CustomersServiceDefinition } from '@pdash/proto/customers/v1/customers';
import { OrdersServiceDefinition } from '@pdash/proto/orders/v1/orders';
import { SuppliersServiceDefinition } from '@pdash/proto/suppliers/v1/suppliers';
import { freePort, type RedisServer, startRedis } from '@pdash/scripts/infra';
import type { BackendService } from '@pdash/scripts/topology';
import { MongoClient } from 'mongodb';
import { inject } from 'vitest';

/** The first admin of every test backend and stack (ADMIN_* of the auth service). */
export const TEST_ADMIN = { username: 'admin', email: 'admin@example.com', password: 'admin-password-for-tests' } as const;
export const TEST_ADMIN_ENV = {
  ADMIN_USERNAME: TEST_ADMIN.username,
  ADMIN_EMAIL: TEST_ADMIN.email,
  ADMIN_PASSWORD: TEST_ADMIN.password,
};

/** The gRPC services (scripts/lib/topology.ts). */
export type ServiceName = BackendService;

const STARTERS: Record<ServiceName, (env: NodeJS.ProcessEnv) => Promise<RunningService>> = {
  customers: (env) => startPartyService('customers', env),
  suppliers: (env) => startPartyService('suppliers', env),
  orders: async (env) => (await import('@pdash/backend/orders')).startOrdersService(env),
  auth: async (env) => (await import('@pdash/backend/auth')).startAuthService(env),
};

/**
 * Real backend services for one test file, in this process, over real gRPC on free loopback
 * ports, against the run's FerretDB (a database of the file's own) and a Redis of the file's own.
 */
export async function startBackend(services: ServiceName[], extraEnv: NodeJS.ProcessEnv = {}) {
  const redis = await startRedis();
  const mongoUrl = inject('mongoUrl');
  const dbName = `test_${randomBytes(6).toString('hex')}`;
  const keyDir = mkdtempSync(join(tmpdir(), 'pdash-test-keys-'));
  const running = new Map<ServiceName, RunningService>();
  let ports = {} as Record<ServiceName, number>;
  let env: NodeJS.ProcessEnv = {};
  const addr = (s: ServiceName) => `127.0.0.1:${ports[s] ?? 1}`;
  const start = async (s: ServiceName) => {
    running.set(s, await STARTERS[s]({ ...env, GRPC_PORT: String(ports[s]) }));
  };
  // The ports are picked before the services bind them; another test file's process may take one
  // meanwhile (each picks its own). Then every service here starts again on new ports.
  for (let attempt = 1; ; attempt++) {
    ports = Object.fromEntries(await Promise.all(services.map(async (s) => [s, await freePort()] as const))) as Record<ServiceName, number>;
    env = {
      AUTH_KEY_FILE: join(keyDir, 'dev-signing-key.pem'),
      MONGO_URL: mongoUrl,
      MONGO_DB: dbName,
      REDIS_URL: redis.url,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      CUSTOMERS_ADDR: addr('customers'),
      SUPPLIERS_ADDR: addr('suppliers'),
      ORDERS_ADDR: addr('orders'),
      AUTH_ADDR: addr('auth'),
      SHUTDOWN_GRACE_MS: '1000',
      // Tests sign up as they need (signedIn() through an admin's invitation, as a real user would);
      // the invitation rule itself is tested with SIGNUP_MODE unset (its default, invite).
      SIGNUP_MODE: 'open',
      ...TEST_ADMIN_ENV,
      ...extraEnv,
    };
    try {
      for (const s of services) await start(s);
      break;
    } catch (err) {
      await Promise.all([...running.values()].map((r) => r.shutdown()));
      running.clear();
      if (attempt >= 3 || !/EADDRINUSE/.test(String((err as Error)?.message))) {
        await redis.stop();
        rmSync(keyDir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const mongo = new MongoClient(mongoUrl);
  const db = mongo.db(dbName);
  const channels = {
    customers: createServiceClient(CustomersServiceDefinition, addr('customers')),
    suppliers: createServiceClient(SuppliersServiceDefinition, addr('suppliers')),
    orders: createServiceClient(OrdersServiceDefinition, addr('orders')),
    auth: createServiceClient(AuthServiceDefinition, addr('auth')),
  };
  return {
    env,
    ports,
    redis: redis as RedisServer,
    db,
    customers: channels.customers.client,
    suppliers: channels.suppliers.client,
    orders: channels.orders.client,
    auth: channels.auth.client,
    /** Stops one service (graceful) so a test can see what its absence does, and starts it again. */
    async stopService(s: ServiceName) {
      await running.get(s)?.shutdown();
      running.delete(s);
    },
    startService: start,
    async stop() {
      for (const c of Object.values(channels)) c.close();
      await Promise.all([...running.values()].map((r) => r.shutdown()));
      await mongo
        .db(dbName)
        .dropDatabase()
        .catch(() => {});
      await mongo.close();
      await redis.stop();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

export type Backend = Awaited<ReturnType<typeof startBackend>>;
