import { join } from 'node:path';
import type { ProcessSpec } from './supervisor.js';

/** The backend services and how each is started; shared by `npm start`, benchmarks and stack tests. */
export const BACKEND_SERVICES = ['customers', 'suppliers', 'orders', 'auth'] as const;
export type BackendService = (typeof BACKEND_SERVICES)[number];
export const DEFAULT_PORTS: Record<BackendService, number> = { customers: 50051, suppliers: 50052, orders: 50053, auth: 50054 };

const root = join(import.meta.dirname, '../..');

export function tsxProcess(file: string) {
  return { command: process.execPath, args: ['--import', 'tsx', join(root, file)] };
}

export function backendSpecs(options: {
  mongoUrl: string;
  redisUrl: string;
  ports: Record<BackendService, number>;
  env?: NodeJS.ProcessEnv;
}): ProcessSpec[] {
  const { ports } = options;
  const addresses = {
    CUSTOMERS_ADDR: `127.0.0.1:${ports.customers}`,
    SUPPLIERS_ADDR: `127.0.0.1:${ports.suppliers}`,
    ORDERS_ADDR: `127.0.0.1:${ports.orders}`,
    AUTH_ADDR: `127.0.0.1:${ports.auth}`,
  };
  return BACKEND_SERVICES.map((name) => ({
    name,
    ...tsxProcess(`backend/${name}/main.ts`),
    env: { MONGO_URL: options.mongoUrl, REDIS_URL: options.redisUrl, GRPC_PORT: String(ports[name]), ...addresses, ...options.env },
    port: ports[name],
  }));
}
