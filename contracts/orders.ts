import { z } from 'zod';
import { cursor, expectedVersion, limit, objectId, timestamp, totalCents, version } from './rules.js';

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
export type OrderRecord = z.infer<typeof orderRecord>;

export const orderListInput = z
  .strictObject({
    customerId: objectId.optional().describe("only this customer's orders"),
    supplierId: objectId.optional().describe("only this supplier's orders; not together with customerId"),
    limit: limit.optional(),
    cursor: cursor.optional(),
  })
  .refine((input) => input.customerId === undefined || input.supplierId === undefined, {
    path: ['supplierId'],
    message: 'give customerId or supplierId, not both',
  });

/** A key per create the client means to make once: sent again on a retry, it returns the first one's order. */
export const idempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .describe('the same key on a retry returns the order the first request made (kept 24 hours)');

export const orderCreateInput = z.strictObject({
  customerId: objectId,
  supplierId: objectId,
  totalCents,
  idempotencyKey: idempotencyKey.optional(),
});
export const orderUpdateInput = z.strictObject({
  id: objectId,
  customerId: objectId.optional(),
  supplierId: objectId.optional(),
  totalCents: totalCents.optional(),
  version: expectedVersion.optional(),
});

export const MAX_STATS_DAYS = 366;
export const statsInput = z.strictObject({
  days: z
    .number()
    .int('must be a whole number')
    .min(1, `must be 1..${MAX_STATS_DAYS}`)
    .max(MAX_STATS_DAYS, `must be 1..${MAX_STATS_DAYS}`)
    .optional(),
});
const counts = { count: z.number().int(), revenueCents: z.number().int() };
export const statsOutput = z.object({
  ...counts,
  byDay: z.array(z.object({ day: z.string().describe('YYYY-MM-DD (UTC)'), ...counts })),
  bySupplier: z.array(z.object({ supplierId: z.string(), name: z.string(), ...counts })),
});

export const changeInput = z.strictObject({
  lastEventId: z
    .string()
    .regex(/^(\d{1,15}-\d{1,15})?$/, 'must be an event id like 1718000000000-0')
    .nullish(),
});
