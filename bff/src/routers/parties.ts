import { byId, page, partyCreateInput, partyListInput, partyRecord, partyUpdateInput } from '@pdash/contracts';
import { z } from 'zod';
import type { Clients, PartyClient } from '../clients.js';
import { toParty } from '../records.js';
import { editorProcedure, protectedProcedure, router } from '../trpc.js';

/**
 * customers.* and suppliers.*: the two services speak the same messages, so one router serves
 * both. Inputs are checked here and again by the services, with the same rules (@pdash/contracts).
 */
export function partyRouter(pick: (clients: Clients) => PartyClient, plural: 'customers' | 'suppliers', one: 'customer' | 'supplier') {
  return router({
    list: protectedProcedure
      .meta({ rest: { method: 'GET', path: `/api/${plural}`, status: 200, summary: `List ${plural}, newest first` } })
      .input(partyListInput.optional())
      .output(page(partyRecord))
      .query(async ({ ctx, input }) => {
        const result = await pick(ctx.clients).list({ q: input?.q, limit: input?.limit ?? 0, cursor: input?.cursor }, ctx.rpc);
        return { items: result.items.map(toParty), nextCursor: result.nextCursor ?? null, total: result.total };
      }),

    byId: protectedProcedure
      .meta({ rest: { method: 'GET', path: `/api/${plural}/{id}`, status: 200, summary: `Get a ${one}` } })
      .input(byId)
      .output(partyRecord)
      .query(async ({ ctx, input }) => toParty(await pick(ctx.clients).get(input, ctx.rpc))),

    create: editorProcedure
      .meta({ rest: { method: 'POST', path: `/api/${plural}`, status: 201, summary: `Create a ${one}` } })
      .input(partyCreateInput)
      .output(partyRecord)
      .mutation(async ({ ctx, input }) => toParty(await pick(ctx.clients).create(input, ctx.rpc))),

    update: editorProcedure
      .meta({
        rest: {
          method: 'PATCH',
          path: `/api/${plural}/{id}`,
          status: 200,
          summary: `Update a ${one} (409 when version is stale)`,
          errors: [409],
        },
      })
      .input(partyUpdateInput)
      .output(partyRecord)
      .mutation(async ({ ctx, input: { version, ...changes } }) =>
        toParty(await pick(ctx.clients).update({ ...changes, expectedVersion: version }, ctx.rpc)),
      ),

    delete: editorProcedure
      .meta({
        rest: {
          method: 'DELETE',
          path: `/api/${plural}/{id}`,
          status: 200,
          summary: `Delete a ${one} (409 while orders refer to it)`,
          errors: [409],
        },
      })
      .input(byId)
      .output(z.object({ id: z.string() }))
      .mutation(async ({ ctx, input }) => pick(ctx.clients).delete(input, ctx.rpc)),
  });
}
