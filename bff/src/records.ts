import type { User } from '@pdash/proto/auth/v1/auth';
import type { Party } from '@pdash/proto/common/v1/party';
import type { Order } from '@pdash/proto/orders/v1/orders';
import { z } from 'zod';
import type { Context } from './context.js';

/*
 * The records of API.md, as zod schemas (procedures' `.output()`, so nothing else can leak out, and
 * the REST fallback's OpenAPI document), and their making from the services' gRPC messages.
 */

const timestamp = z.string().describe('ISO-8601 UTC');
const version = z.number().int().min(1).describe('starts at 1, grows by one on each update');

export const partyRecord = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().optional(),
  phone: z.string().optional(),
  createdAt: timestamp,
  updatedAt: timestamp,
  version,
});

export const orderRecord = z.object({
  id: z.string(),
  customerId: z.string(),
  supplierId: z.string(),
  customerName: z.string().describe('empty when the customer no longer exists'),
  supplierName: z.string().describe('empty when the supplier no longer exists'),
  totalCents: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
  version,
});

export const userRecord = z.object({ id: z.string(), username: z.string(), email: z.string(), createdAt: timestamp });

/** A page of a list: `nextCursor` is null on the last page; `total` counts every match. */
export const page = <S extends z.ZodType>(item: S) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable(), total: z.number().int() });

export type PartyRecord = z.infer<typeof partyRecord>;
export type OrderRecord = z.infer<typeof orderRecord>;

export function toParty(party: Party): PartyRecord {
  const record: PartyRecord = {
    id: party.id,
    name: party.name,
    createdAt: party.createdAt ?? '',
    updatedAt: party.updatedAt ?? '',
    version: party.version,
  };
  if (party.email !== undefined) record.email = party.email;
  if (party.phone !== undefined) record.phone = party.phone;
  return record;
}

export const toUser = (user: User | undefined) => ({
  id: user?.id ?? '',
  username: user?.username ?? '',
  email: user?.email ?? '',
  createdAt: user?.createdAt ?? '',
});

/**
 * Orders with their customer's and supplier's names: one customers BatchGet and one suppliers
 * BatchGet for the whole page, never one call per order. A record that is gone leaves its name empty.
 */
export async function withNames(ctx: Pick<Context, 'clients' | 'rpc'>, orders: Order[]): Promise<OrderRecord[]> {
  if (orders.length === 0) return [];
  const names = async (client: Context['clients']['customers'], ids: string[]) => {
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

/* Inputs shared by several routers. */

const HEX24 = /^[0-9a-f]{24}$/i;
export const objectId = z.string().max(24, 'must be a 24-character hex ObjectId').regex(HEX24, 'must be a 24-character hex ObjectId');
export const limit = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be 1..100')
  .max(100, 'must be 1..100')
  .describe('page size, default 20');
export const cursor = z.string().min(1).max(64, 'is not a cursor this service made').describe('nextCursor of the previous page');
export const expectedVersion = z
  .number()
  .int('must be a whole number')
  .min(1, 'must be 1 or more')
  .describe('fails with 409 unless current');
export const byId = z.strictObject({ id: objectId });
/**
 * Text a user types into a one-line field: at most `max` characters, and none of the characters
 * that only ever serve to hide or disguise text: control characters (NUL included), lone UTF-16
 * surrogates (not text at all; they would turn into U+FFFD on the way to the services), the
 * bidirectional overrides and isolates of "Trojan Source" (U+202A-U+202E, U+2066-U+2069), and
 * invisible zero-width spaces (U+200B, U+2060, U+FEFF). Joiners (U+200C, U+200D) stay allowed:
 * scripts and emoji need them.
 */
export const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL.test(value), 'must not contain control characters')
    .refine((value) => !LONE_SURROGATE.test(value), 'must be valid Unicode (no lone surrogates)')
    .refine((value) => !DISGUISING.test(value), 'must not contain invisible or direction-changing characters');

/** A password: anything but control characters and lone surrogates (both would change it silently). */
export const secret = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL.test(value), 'must not contain control characters')
    .refine((value) => !LONE_SURROGATE.test(value), 'must be valid Unicode (no lone surrogates)');

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DISGUISING = /[\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069]/;
