import { createServiceClient } from '@pdash/backend-shared/grpc-client';
import { AuthServiceDefinition } from '@pdash/proto/auth/v1/auth';
import { CustomersServiceDefinition } from '@pdash/proto/customers/v1/customers';
import { OrdersServiceDefinition } from '@pdash/proto/orders/v1/orders';
import { SuppliersServiceDefinition } from '@pdash/proto/suppliers/v1/suppliers';
import type { Metadata } from 'nice-grpc';
import { HealthDefinition } from 'nice-grpc-server-health';
import type { BffConfig } from './config.js';

/** How long /healthz waits for the auth service. */
const HEALTH_DEADLINE_MS = 1_000;

/**
 * The replica's gRPC clients, one long-lived channel per backend service, made at start-up. Every
 * unary call gets the configured deadline; streams (orders.watch) run until their signal aborts.
 */
export function createClients(config: BffConfig) {
  const deadline = config.GRPC_DEADLINE_MS;
  const channels = {
    customers: createServiceClient(CustomersServiceDefinition, config.CUSTOMERS_ADDR, deadline),
    suppliers: createServiceClient(SuppliersServiceDefinition, config.SUPPLIERS_ADDR, deadline),
    orders: createServiceClient(OrdersServiceDefinition, config.ORDERS_ADDR, deadline),
    auth: createServiceClient(AuthServiceDefinition, config.AUTH_ADDR, deadline),
    authHealth: createServiceClient(HealthDefinition, config.AUTH_ADDR, HEALTH_DEADLINE_MS),
  };
  return {
    customers: channels.customers.client,
    suppliers: channels.suppliers.client,
    orders: channels.orders.client,
    auth: channels.auth.client,
    /** True when the auth service answers its health check as serving. */
    async authReachable(metadata?: Metadata) {
      try {
        const { status } = await channels.authHealth.client.check({ service: AuthServiceDefinition.fullName }, { metadata });
        return status === 1; // grpc.health.v1 SERVING
      } catch {
        return false;
      }
    },
    close() {
      for (const channel of Object.values(channels)) channel.close();
    },
  };
}

export type Clients = ReturnType<typeof createClients>;
export type PartyClient = Clients['customers'];
