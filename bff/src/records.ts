import { type AuditEntryRecord, isRole, type OrderRecord, optionalPartyFields, type PartyRecord, type UserRecord } from '@pdash/contracts';
import type { AuditEntry, User } from '@pdash/proto/auth/v1/auth';
import type { Party } from '@pdash/proto/common/v1/party';
import type { Order } from '@pdash/proto/orders/v1/orders';
import type { CallOptions } from 'nice-grpc';
import type { Clients } from './clients.js';

/*
 * The records of API.md (their schemas are @pdash/contracts'), made from the services' gRPC
 * messages. These helpers take what they need, never the request context, so domain code does not
 * depend on the transport.
 */

export function toParty(party: Party): PartyRecord {
  const record: PartyRecord = {
    id: party.id,
    name: party.name,
    createdAt: party.createdAt ?? '',
    updatedAt: party.updatedAt ?? '',
    version: party.version,
  };
  for (const field of optionalPartyFields) if (party[field] !== undefined) record[field] = party[field];
  return record;
}

export const toUser = (user: User | undefined): UserRecord => ({
  id: user?.id ?? '',
  username: user?.username ?? '',
  email: user?.email ?? '',
  role: isRole(user?.role) ? user.role : 'viewer',
  disabled: user?.disabled === true,
  createdAt: user?.createdAt ?? '',
});

/** A history entry of the auth service's ListAudit as API.md's AuditEntry. */
export function toAuditEntry(entry: AuditEntry): AuditEntryRecord {
  return {
    id: entry.id,
    at: entry.at ?? '',
    actor: entry.actor ? { id: entry.actor.id, username: entry.actor.username } : null,
    action: entry.action as AuditEntryRecord['action'],
    entity: entry.entity as AuditEntryRecord['entity'],
    entityId: entry.entityId,
    changes: JSON.parse(entry.changesJson || '{}'),
  };
}

/**
 * Orders with their customer's and supplier's names: one customers BatchGet and one suppliers
 * BatchGet for the whole page, never one call per order. A record that is gone leaves its name empty.
 */
export async function withNames(ctx: { clients: Clients; rpc: CallOptions }, orders: Order[]): Promise<OrderRecord[]> {
  if (orders.length === 0) return [];
  const names = async (client: Clients['customers'], ids: string[]) => {
    const { items } = await client.batchGet({ ids: [...new Set(ids)], forReference: false }, ctx.rpc);
    return new Map(items.map((party) => [party.id, party.name]));
  };
  const [customers, suppliers] = await Promise.all([
    names(
      ctx.clients.customers,
      orders.map((o) => o.customerId),
    ),
    names(
      ctx.clients.suppliers,
      orders.map((o) => o.supplierId),
    ),
  ]);
  return orders.map((order) => ({
    id: order.id,
    customerId: order.customerId,
    supplierId: order.supplierId,
    customerName: customers.get(order.customerId) ?? '',
    supplierName: suppliers.get(order.supplierId) ?? '',
    totalCents: order.totalCents,
    createdAt: order.createdAt ?? '',
    updatedAt: order.updatedAt ?? '',
    version: order.version,
  }));
}
