import { join } from 'node:path';
import { AuthServiceDefinition } from '@pdash/proto/auth/v1/auth';
import { CustomersServiceDefinition } from '@pdash/proto/customers/v1/customers';
import { OrdersServiceDefinition } from '@pdash/proto/orders/v1/orders';
import { SuppliersServiceDefinition } from '@pdash/proto/suppliers/v1/suppliers';
import type { ProcessSpec } from './supervisor.js';

/**
 * pdash's topology, the one table: every process, what runs it, its port outside containers, what
 * must be up before it and how its health is asked. `npm start` (scripts/stack.ts), the test stack
 * (tests/support), the benchmarks and the deploy checks (tests/deploy: docker-compose.yml and
 * deploy/k8s are compared against it) all read it. The services' own config defaults
 * (backend/<service>/main.ts, bff/src/config.ts) are compared against it by backend/topology.test.ts
 * and bff/src/config.test.ts.
 */

export type Health =
  /** grpc.health.v1 Check of this fully-qualified service name. */
  | { kind: 'grpc'; service: string }
  /** GET answers 2xx. */
  | { kind: 'http'; path: string }
  /** Accepts TCP connections (local runs); its container has its own client's ping. */
  | { kind: 'tcp' };

export interface Entry {
  /** What runs it: a TypeScript entry point (run with tsx) or a program. */
  entry: string;
  /** Its port outside containers (`npm start`): the first of them for replicated processes. */
  port: number;
  /** Up and healthy before it starts (compose `depends_on`, the start order of `npm start`). */
  dependsOn: readonly Name[];
  /** The gRPC services it calls, each found by `<NAME>_ADDR`. */
  calls: readonly BackendService[];
  health: Health;
  /** How many run side by side (`bff-1`, `bff-2`, …). */
  replicas?: number;
  /** Its process name under `npm start` when it is not the table's name (FerretDB stands in for MongoDB). */
  localName?: string;
}

export const BACKEND_SERVICES = ['customers', 'suppliers', 'orders', 'auth'] as const;
export type BackendService = (typeof BACKEND_SERVICES)[number];
export type Name = 'mongo' | 'redis' | BackendService | 'bff' | 'nginx';

const DATA = ['mongo', 'redis'] as const;

export const TOPOLOGY: Readonly<Record<Name, Entry>> = {
  mongo: { entry: 'ferretdb', localName: 'ferretdb', port: 27018, dependsOn: [], calls: [], health: { kind: 'tcp' } },
  redis: { entry: 'redis-server', port: 6380, dependsOn: [], calls: [], health: { kind: 'tcp' } },
  customers: {
    entry: 'backend/customers/main.ts',
    port: 50051,
    dependsOn: DATA,
    calls: ['orders'],
    health: { kind: 'grpc', service: CustomersServiceDefinition.fullName },
  },
  suppliers: {
    entry: 'backend/suppliers/main.ts',
    port: 50052,
    dependsOn: DATA,
    calls: ['orders'],
    health: { kind: 'grpc', service: SuppliersServiceDefinition.fullName },
  },
  orders: {
    entry: 'backend/orders/main.ts',
    port: 50053,
    dependsOn: DATA,
    calls: ['customers', 'suppliers'],
    health: { kind: 'grpc', service: OrdersServiceDefinition.fullName },
  },
  auth: {
    entry: 'backend/auth/main.ts',
    port: 50054,
    dependsOn: DATA,
    calls: [],
    health: { kind: 'grpc', service: AuthServiceDefinition.fullName },
  },
  bff: {
    entry: 'bff/src/main.ts',
    port: 3001,
    replicas: 2,
    dependsOn: BACKEND_SERVICES,
    calls: BACKEND_SERVICES,
    health: { kind: 'http', path: '/healthz' },
  },
  nginx: { entry: '/usr/sbin/nginx', port: 8080, dependsOn: ['bff'], calls: [], health: { kind: 'http', path: '/' } },
};

/**
 * Inside a container every process listens on the same port of its own (docker/Dockerfile's ENV,
 * docker-compose.yml, deploy/k8s): gRPC services on `grpc` (metrics on `metrics`), BFF replicas on
 * `bff`, Nginx on `nginx`.
 */
export const CONTAINER_PORTS = { grpc: 50051, metrics: 51051, bff: 3000, nginx: 8080 } as const;

/** Default ports of the gRPC services outside containers. */
export const DEFAULT_PORTS = Object.fromEntries(BACKEND_SERVICES.map((name) => [name, TOPOLOGY[name].port])) as Record<
  BackendService,
  number
>;

/** `CUSTOMERS_ADDR` for customers, and so on. */
export const addressVariable = (service: BackendService) => `${service.toUpperCase()}_ADDR`;

/** Every `<NAME>_ADDR` of the gRPC services on loopback at these ports. */
export function loopbackAddresses(ports: Record<BackendService, number>): Record<string, string> {
  return Object.fromEntries(BACKEND_SERVICES.map((name) => [addressVariable(name), `127.0.0.1:${ports[name]}`]));
}

const root = join(import.meta.dirname, '../..');

/**
 * A TypeScript entry point run by this Node with tsx. `PDASH_NODE_ARGS` adds options to every such
 * process, for profiling (`PDASH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`: Node refuses
 * `--cpu-prof` in NODE_OPTIONS); see docs/benchmarks.md.
 */
export function tsxProcess(file: string) {
  const extra = process.env.PDASH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  return { command: process.execPath, args: [...extra, '--import', 'tsx', join(root, file)] };
}

export function backendSpecs(options: {
  mongoUrl: string;
  redisUrl: string;
  ports: Record<BackendService, number>;
  /** Each service's metrics port; unset, the gRPC port + 1000 (fixed ports only: picked ones could collide). */
  metricsPorts?: Record<BackendService, number>;
  env?: NodeJS.ProcessEnv;
}): ProcessSpec[] {
  const { ports, metricsPorts } = options;
  const addresses = loopbackAddresses(ports);
  return BACKEND_SERVICES.map((name) => ({
    name,
    ...tsxProcess(TOPOLOGY[name].entry),
    env: {
      MONGO_URL: options.mongoUrl,
      REDIS_URL: options.redisUrl,
      GRPC_PORT: String(ports[name]),
      ...(metricsPorts ? { METRICS_PORT: String(metricsPorts[name]) } : {}),
      ...addresses,
      ...options.env,
    },
    port: ports[name],
  }));
}

/**
 * The table's processes in an order that starts each after what it depends on (a test keeps
 * `npm start`'s order to it).
 */
export function startOrder(names: readonly Name[] = Object.keys(TOPOLOGY) as Name[]): Name[] {
  const order: Name[] = [];
  const visit = (name: Name, path: Name[]) => {
    if (order.includes(name)) return;
    if (path.includes(name)) throw new Error(`dependency cycle: ${[...path, name].join(' → ')}`);
    for (const dependency of TOPOLOGY[name].dependsOn) visit(dependency, [...path, name]);
    order.push(name);
  };
  for (const name of names) visit(name, []);
  return order;
}
