import type { IncomingMessage } from 'node:http';
import { isRole, page, SIGNUP_PATH, userInviteInput, userInviteOutput, userListInput, userRecord, userUpdateInput } from '@pdash/contracts';
import { toUser } from '../records.js';
import { adminProcedure, router } from '../trpc.js';

/** users.*: accounts, for admins (API.md "Users, roles and sign-up"). */
export const usersRouter = router({
  list: adminProcedure
    .meta({ rest: { method: 'GET', path: '/api/users', status: 200, summary: 'List users, newest first (admins)' } })
    .input(userListInput.optional())
    .output(page(userRecord))
    .query(async ({ ctx, input }) => {
      const result = await ctx.clients.auth.listUsers({ q: input?.q, limit: input?.limit ?? 0, cursor: input?.cursor }, ctx.rpc);
      return { items: result.items.map(toUser), nextCursor: result.nextCursor ?? null, total: result.total };
    }),

  /** A single-use code, and the sign-up page's address with it, to send to the person invited. */
  invite: adminProcedure
    .meta({ rest: { method: 'POST', path: '/api/users/invites', status: 201, summary: 'Invite someone to sign up with a role (admins)' } })
    .input(userInviteInput)
    .output(userInviteOutput)
    .mutation(async ({ ctx, input }) => {
      const invite = await ctx.clients.auth.createInvite(
        { role: input.role, email: input.email, expiresInHours: input.expiresInHours ?? 0 },
        ctx.rpc,
      );
      return {
        code: invite.code,
        role: isRole(invite.role) ? invite.role : input.role,
        ...(invite.email ? { email: invite.email } : {}),
        expiresAt: invite.expiresAt ?? '',
        url: `${originOf(ctx.req)}${SIGNUP_PATH}?invite=${encodeURIComponent(invite.code)}`,
      };
    }),

  update: adminProcedure
    .meta({
      rest: {
        method: 'PATCH',
        path: '/api/users/{id}',
        status: 200,
        summary: "Change a user's role or disable the account (admins; 409 for the last enabled admin)",
        errors: [409],
      },
    })
    .input(userUpdateInput)
    .output(userRecord)
    .mutation(async ({ ctx, input }) => toUser(await ctx.clients.auth.updateUser(input, ctx.rpc))),
});

/**
 * The origin the caller reached us at: Nginx passes the browser's Host (one of PDASH_HOSTS, it
 * refuses any other) and the scheme it was reached with.
 */
function originOf(req: IncomingMessage) {
  const forwardedProto = req.headers['x-forwarded-proto'];
  const proto = typeof forwardedProto === 'string' && forwardedProto.split(',')[0]?.trim() === 'https' ? 'https' : 'http';
  const forwardedHost = req.headers['x-forwarded-host'];
  const host = (typeof forwardedHost === 'string' ? forwardedHost.split(',')[0]?.trim() : undefined) || req.headers.host || '127.0.0.1';
  return `${proto}://${host}`;
}
