import { RecordCache } from '@pdash/backend-shared/cache';
import { address, baseEnv, loadConfig, port } from '@pdash/backend-shared/config';
import { callOptionsWithin } from '@pdash/backend-shared/context';
import { createServiceClient } from '@pdash/backend-shared/grpc-client';
import { startService } from '@pdash/backend-shared/server';
import type { Party } from '@pdash/proto/common/v1/party';
import { CustomersServiceDefinition } from '@pdash/proto/customers/v1/customers';
import { OrdersServiceDefinition } from '@pdash/proto/orders/v1/orders';
import { SuppliersServiceDefinition } from '@pdash/proto/suppliers/v1/suppliers';
import { z } from 'zod';
import { createPartyService } from './service.js';
import { PartyStore } from './store.js';

const KINDS = {
  customers: { kind: 'customer', definition: CustomersServiceDefinition, defaultPort: 50051, field: 'customerId' },
  suppliers: { kind: 'supplier', definition: SuppliersServiceDefinition, defaultPort: 50052, field: 'supplierId' },
} as const;

/** The environment of the customers or the suppliers service (its defaults: scripts/lib/topology.ts, compared by backend/topology.test.ts). */
export const partyEnv = (collection: keyof typeof KINDS) =>
  baseEnv.extend({
    GRPC_PORT: port(KINDS[collection].defaultPort),
    ORDERS_ADDR: address('127.0.0.1:50053'),
    CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  });

/** Starts the customers or the suppliers service: same code, its own collection, cache and port. */
export function startPartyService(collection: keyof typeof KINDS, env: NodeJS.ProcessEnv = process.env) {
  const { kind, definition, field } = KINDS[collection];
  const config = loadConfig(partyEnv(collection), env);
  return startService({
    name: collection,
    config,
    port: config.GRPC_PORT,
    async setup({ db, redis, log }) {
      const store = new PartyStore(db, collection, { log });
      await store.ensureIndexes();
      const stopRecovery = store.trail.startRecovery();
      const stopImportRecovery = store.imports.startRecovery();
      const cache = new RecordCache<Party>(redis, collection, config.CACHE_TTL_SECONDS, log, config.REDIS_PREFIX);
      const orders = createServiceClient(OrdersServiceDefinition, config.ORDERS_ADDR);
      const service = createPartyService({
        kind,
        store,
        cache,
        countReferences: (id, context) => orders.client.count({ [field]: id }, callOptionsWithin(context)),
      });
      return {
        names: [definition.fullName],
        register: (server) => server.add(definition, service),
        close: async () => {
          await Promise.all([stopRecovery(), stopImportRecovery()]);
          orders.close();
        },
      };
    },
  });
}
