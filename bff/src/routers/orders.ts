import {
  byId,
  changeInput,
  orderCreateInput,
  orderListInput,
  orderRecord,
  orderUpdateInput,
  page,
  statsInput,
  statsOutput,
} from '@pdash/contracts';
import { z } from 'zod';
import { withNames } from '../records.js';
import { editorProcedure, protectedProcedure, router } from '../trpc.js';

export const ordersRouter = router({
  list: protectedProcedure
    .meta({
      rest: { method: 'GET', path: '/api/orders', status: 200, summary: 'List orders, newest first (customerId or supplierId, not both)' },
    })
    .input(orderListInput.optional())
    .output(page(orderRecord))
    .query(async ({ ctx, input }) => {
      const result = await ctx.clients.orders.list({ ...input, limit: input?.limit ?? 0 }, ctx.rpc);
      return { items: await withNames(ctx, result.items), nextCursor: result.nextCursor ?? null, total: result.total };
    }),

  byId: protectedProcedure
    .meta({ rest: { method: 'GET', path: '/api/orders/{id}', status: 200, summary: 'Get an order' } })
    .input(byId)
    .output(orderRecord)
    .query(async ({ ctx, input }) => (await withNames(ctx, [await ctx.clients.orders.get(input, ctx.rpc)]))[0]!),

  create: editorProcedure
    .meta({
      rest: {
        method: 'POST',
        path: '/api/orders',
        status: 201,
        summary: 'Create an order (422 when a reference does not exist)',
        errors: [422],
      },
    })
    .input(orderCreateInput)
    .output(orderRecord)
    .mutation(async ({ ctx, input: { idempotencyKey, ...fields } }) => {
      // Keys are the user's own: the orders service sees one namespace for every caller.
      const request = { ...fields, idempotencyKey: idempotencyKey && `${ctx.user.id}:${idempotencyKey}` };
      return (await withNames(ctx, [await ctx.clients.orders.create(request, ctx.rpc)]))[0]!;
    }),

  update: editorProcedure
    .meta({ rest: { method: 'PATCH', path: '/api/orders/{id}', status: 200, summary: 'Update an order', errors: [409, 422] } })
    .input(orderUpdateInput)
    .output(orderRecord)
    .mutation(async ({ ctx, input: { version, ...changes } }) => {
      const order = await ctx.clients.orders.update({ ...changes, expectedVersion: version }, ctx.rpc);
      return (await withNames(ctx, [order]))[0]!;
    }),

  delete: editorProcedure
    .meta({ rest: { method: 'DELETE', path: '/api/orders/{id}', status: 200, summary: 'Delete an order' } })
    .input(byId)
    .output(z.object({ id: z.string() }))
    .mutation(async ({ ctx, input }) => ctx.clients.orders.delete(input, ctx.rpc)),

  stats: protectedProcedure
    .meta({ rest: { method: 'GET', path: '/api/orders/stats', status: 200, summary: 'Order count and revenue per day and top suppliers' } })
    .input(statsInput.optional())
    .output(statsOutput)
    .query(async ({ ctx, input }) => ctx.clients.orders.getStats({ days: input?.days ?? 0 }, ctx.rpc)),

  /** Live changes over SSE (events.ts). tRPC puts the last tracked id into `lastEventId` on reconnect. */
  onChange: protectedProcedure
    .input(changeInput.optional())
    .subscription(({ ctx, input, signal }) => ctx.orderFeed.watch(ctx, input?.lastEventId ?? undefined, signal)),
});
