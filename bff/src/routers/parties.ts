import { z } from 'zod';
import type { Clients, PartyClient } from '../clients.js';
import { byId, cursor, expectedVersion, limit, objectId, page, partyRecord, text, toParty } from '../records.js';
import { protectedProcedure, router } from '../trpc.js';

const listInput = z.strictObject({
  q: text(200).optional().describe('case-insensitive part of the name'),
  limit: limit.optional(),
  cursor: cursor.optional(),
});
const createInput = z.strictObject({
  name: text(200).trim().min(1, 'must not be empty'),
  email: text(254).optional(),
  phone: text(40).optional(),
});
const updateInput = z.strictObject({
  id: objectId,
  name: text(200).trim().min(1, 'must not be empty').optional(),
  email: text(254).optional().describe('an empty string removes the email'),
  phone: text(40).optional().describe('an empty string removes the phone'),
  version: expectedVersion.optional(),
});

/**
 * customers.* and suppliers.*: the two services speak the same messages, so one router serves
 * both. The services check formats (email, phone) and name the field at fault.
 */
export function partyRouter(pick: (clients: Clients) => PartyClient) {
  return router({
    list: protectedProcedure
      .input(listInput.optional())
      .output(page(partyRecord))
      .query(async ({ ctx, input }) => {
        const result = await pick(ctx.clients).list({ q: input?.q, limit: input?.limit ?? 0, cursor: input?.cursor }, ctx.rpc);
        return { items: result.items.map(toParty), nextCursor: result.nextCursor ?? null, total: result.total };
      }),

    byId: protectedProcedure
      .input(byId)
      .output(partyRecord)
      .query(async ({ ctx, input }) => toParty(await pick(ctx.clients).get(input, ctx.rpc))),

    create: protectedProcedure
      .input(createInput)
      .output(partyRecord)
      .mutation(async ({ ctx, input }) => toParty(await pick(ctx.clients).create(input, ctx.rpc))),

    update: protectedProcedure
      .input(updateInput)
      .output(partyRecord)
      .mutation(async ({ ctx, input: { version, ...changes } }) =>
        toParty(await pick(ctx.clients).update({ ...changes, expectedVersion: version }, ctx.rpc)),
      ),

    delete: protectedProcedure
      .input(byId)
      .output(z.object({ id: z.string() }))
      .mutation(async ({ ctx, input }) => pick(ctx.clients).delete(input, ctx.rpc)),
  });
}
