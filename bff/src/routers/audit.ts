import { auditListInput, auditListOutput } from '@pdash/contracts';
import { TRPCError } from '@trpc/server';
import { toAuditEntry } from '../records.js';
import { protectedProcedure, router } from '../trpc.js';

/** audit.list: the history, newest first; entries about users for admins only. */
export const auditRouter = router({
  list: protectedProcedure
    .meta({
      rest: {
        method: 'GET',
        path: '/api/audit',
        status: 200,
        summary: 'The history of changes, newest first (entries about users: admins)',
        errors: [403],
      },
    })
    .input(auditListInput.optional())
    .output(auditListOutput)
    .query(async ({ ctx, input }) => {
      const isAdmin = ctx.user.role === 'admin';
      if (input?.entity === 'user' && !isAdmin)
        throw new TRPCError({ code: 'FORBIDDEN', message: `role: admin needed for the history of users (you are ${ctx.user.role})` });
      const result = await ctx.clients.auth.listAudit(
        {
          entity: input?.entity,
          entityId: input?.entityId,
          actorId: input?.actorId,
          limit: input?.limit ?? 0,
          cursor: input?.cursor,
          includeUsers: isAdmin,
        },
        ctx.rpc,
      );
      return { items: result.items.map(toAuditEntry), nextCursor: result.nextCursor ?? null };
    }),
});
