import { address, baseEnv, loadConfig, port } from '@pdash/backend-shared/config';
import { createServiceClient } from '@pdash/backend-shared/grpc-client';
import { runMain } from '@pdash/backend-shared/main';
import { createRedis } from '@pdash/backend-shared/redis';
import { startService } from '@pdash/backend-shared/server';
import { VersionedRecords } from '@pdash/backend-shared/versioned';
import { CustomersServiceDefinition } from '@pdash/proto/customers/v1/customers';
import { type Order, OrderEventType, OrdersServiceDefinition } from '@pdash/proto/orders/v1/orders';
import { SuppliersServiceDefinition } from '@pdash/proto/suppliers/v1/suppliers';
import { OrderEventLog, READ_BLOCK_MS } from './events.js';
import { Parties } from './parties.js';
import { OrderRequests } from './requests.js';
import { createOrdersService } from './service.js';
import { OrdersStore } from './store.js';

/** The orders service's environment (its defaults: scripts/lib/topology.ts, compared by backend/topology.test.ts). */
export const ordersEnv = baseEnv.extend({
  GRPC_PORT: port(50053),
  CUSTOMERS_ADDR: address('127.0.0.1:50051'),
  SUPPLIERS_ADDR: address('127.0.0.1:50052'),
});

/** An IMPORTED event names no order. */
const IMPORTED_PLACEHOLDER: Order = {
  id: '',
  customerId: '',
  supplierId: '',
  totalCents: 0,
  version: 0,
  createdAt: undefined,
  updatedAt: undefined,
};

/** Starts the orders service: the `orders` collection, clients to customers and suppliers, the order event log. */
export function startOrdersService(env: NodeJS.ProcessEnv = process.env) {
  const config = loadConfig(ordersEnv, env);
  return startService({
    name: 'orders',
    config,
    port: config.GRPC_PORT,
    async setup({ db, redis, log, stopping }) {
      // An import, whoever completes it, ends with one IMPORTED event (a reset for the watchers).
      const store: OrdersStore = new OrdersStore(db, log, () =>
        events.publish(OrderEventType.ORDER_EVENT_TYPE_IMPORTED, IMPORTED_PLACEHOLDER, store.countOrders()),
      );
      await store.ensureIndexes();
      const events = new OrderEventLog({
        redis,
        reader: createRedis(config.REDIS_URL, log, { name: 'pdash-orders-events', commandTimeout: READ_BLOCK_MS + 1_000 }),
        key: `${config.REDIS_PREFIX}orders:events`,
        log,
        stopping,
      });
      const stopRecovery = store.trail.startRecovery();
      const stopImportRecovery = store.imports.startRecovery();
      const customers = createServiceClient(CustomersServiceDefinition, config.CUSTOMERS_ADDR);
      const suppliers = createServiceClient(SuppliersServiceDefinition, config.SUPPLIERS_ADDR);
      const service = createOrdersService({
        store,
        parties: new Parties(customers.client, suppliers.client),
        events,
        versions: new VersionedRecords(db, 'orders'),
        requests: new OrderRequests(db),
      });
      return {
        names: [OrdersServiceDefinition.fullName],
        register: (server) => server.add(OrdersServiceDefinition, service),
        close: async () => {
          await Promise.all([stopRecovery(), stopImportRecovery()]);
          customers.close();
          suppliers.close();
          await events.close();
        },
      };
    },
  });
}

// `tsx backend/orders/main.ts` runs the service; importing this module (tests, the stack) does not.
runMain(import.meta.url, 'orders', () => startOrdersService());
