import { z } from 'zod';
import { byId, cursor, expectedVersion, limit, objectId, orderRecord, page, withNames } from '../records.js';
import { protectedProcedure, router } from '../trpc.js';

const totalCents = z
  .number()
  .int('must be a whole number of cents')
  .min(0, 'must not be negative')
  .max(1e12, 'must be at most 1000000000000')
  .describe('integer cents');

const listInput = z
  .strictObject({ customerId: objectId.optional(), supplierId: objectId.optional(), limit: limit.optional(), cursor: cursor.optional() })
  .refine((input) => input.customerId === undefined || input.supplierId === undefined, {
    path: ['supplierId'],
    message: 'give customerId or supplierId, not both',
  });
/** A key per create the client means to make once: sent again on a retry, it returns the first one's order. */
const idempotencyKey = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
  .describe('the same key on a retry returns the order the first request made (kept 24 hours)');
const createInput = z.strictObject({ customerId: objectId, supplierId: objectId, totalCents, idempotencyKey: idempotencyKey.optional() });
const updateInput = z.strictObject({
  id: objectId,
  customerId: objectId.optional(),
  supplierId: objectId.optional(),
  totalCents: totalCents.optional(),
  version: expectedVersion.optional(),
});
const statsInput = z.strictObject({
  days: z.number().int('must be a whole number').min(1, 'must be 1..366').max(366, 'must be 1..366').optional(),
});
const counts = { count: z.number().int(), revenueCents: z.number().int() };
const statsOutput = z.object({
  ...counts,
  byDay: z.array(z.object({ day: z.string().describe('YYYY-MM-DD (UTC)'), ...counts })),
  bySupplier: z.array(z.object({ supplierId: z.string(), name: z.string(), ...counts })),
});
const changeInput = z.strictObject({
  lastEventId: z
    .string()
    .regex(/^(\d{1,15}-\d{1,15})?$/, 'must be an event id like 1718000000000-0')
    .nullish(),
});

export const ordersRouter = router({
  list: protectedProcedure
    .input(listInput.optional())
    .output(page(orderRecord))
    .query(async ({ ctx, input }) => {
      const result = await ctx.clients.orders.list({ ...input, limit: input?.limit ?? 0 }, ctx.rpc);
      return { items: await withNames(ctx, result.items), nextCursor: result.nextCursor ?? null, total: result.total };
    }),

  byId: protectedProcedure
    .input(byId)
    .output(orderRecord)
    .query(async ({ ctx, input }) => (await withNames(ctx, [await ctx.clients.orders.get(input, ctx.rpc)]))[0]!),

  create: protectedProcedure
    .input(createInput)
    .output(orderRecord)
    .mutation(async ({ ctx, input: { idempotencyKey, ...fields } }) => {
      // Keys are the user's own: the orders service sees one namespace for every caller.
      const request = { ...fields, idempotencyKey: idempotencyKey && `${ctx.user.id}:${idempotencyKey}` };
      return (await withNames(ctx, [await ctx.clients.orders.create(request, ctx.rpc)]))[0]!;
    }),

  update: protectedProcedure
    .input(updateInput)
    .output(orderRecord)
    .mutation(async ({ ctx, input: { version, ...changes } }) => {
      const order = await ctx.clients.orders.update({ ...changes, expectedVersion: version }, ctx.rpc);
      return (await withNames(ctx, [order]))[0]!;
    }),

  delete: protectedProcedure
    .input(byId)
    .output(z.object({ id: z.string() }))
    .mutation(async ({ ctx, input }) => ctx.clients.orders.delete(input, ctx.rpc)),

  stats: protectedProcedure
    .input(statsInput.optional())
    .output(statsOutput)
    .query(async ({ ctx, input }) => ctx.clients.orders.getStats({ days: input?.days ?? 0 }, ctx.rpc)),

  /** Live changes over SSE (events.ts). tRPC puts the last tracked id into `lastEventId` on reconnect. */
  onChange: protectedProcedure
    .input(changeInput.optional())
    .subscription(({ ctx, input, signal }) => ctx.orderFeed.watch(ctx, input?.lastEventId ?? undefined, signal)),
});
