import { loginInput, signupInput, userRecord } from '@pdash/contracts';
import { z } from 'zod';
import { clientAddress } from '../context.js';
import { toUser } from '../records.js';
import { protectedProcedure, publicProcedure, router } from '../trpc.js';

export const authRouter = router({
  signup: publicProcedure
    .meta({ rest: { method: 'POST', path: '/api/auth/signup', status: 201, summary: 'Create an account', errors: [409] } })
    .input(signupInput)
    .output(z.object({ user: userRecord }))
    .mutation(async ({ ctx, input }) => {
      const { user } = await ctx.clients.auth.signUp({ ...input, clientAddress: clientAddress(ctx.req) }, ctx.rpc);
      return { user: toUser(user) };
    }),

  /** Also sets the session cookie, for the dashboard (httpOnly, SameSite=Strict). */
  login: publicProcedure
    .meta({
      rest: { method: 'POST', path: '/api/auth/login', status: 200, summary: 'Log in (also sets the session cookie)', errors: [429] },
    })
    .input(loginInput)
    .output(z.object({ accessToken: z.string(), expiresAt: z.string(), user: userRecord }))
    .mutation(async ({ ctx, input }) => {
      const session = await ctx.clients.auth.logIn(
        { login: input.username, password: input.password, clientAddress: clientAddress(ctx.req) },
        ctx.rpc,
      );
      const expiresAt = session.expiresAt ?? new Date().toISOString();
      ctx.setSessionCookie(session.accessToken, (Date.parse(expiresAt) - Date.now()) / 1000);
      return { accessToken: session.accessToken, expiresAt, user: toUser(session.user) };
    }),

  me: protectedProcedure
    .meta({ rest: { method: 'GET', path: '/api/auth/me', status: 200, summary: 'The signed-in user' } })
    .output(userRecord)
    .query(async ({ ctx }) => toUser(await ctx.clients.auth.getUser({ id: ctx.user.id }, ctx.rpc))),

  /** Revokes the token everywhere (other replicas trust their cached check for ≤ 5 s) and clears the cookie. */
  logout: protectedProcedure
    .meta({ rest: { method: 'POST', path: '/api/auth/logout', status: 200, summary: 'Revoke the token and clear the cookie' } })
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx }) => {
      await ctx.clients.auth.revokeToken({ token: ctx.token }, ctx.rpc);
      ctx.tokens.forget(ctx.token);
      ctx.orderFeed.endStreamsOf(ctx.token);
      ctx.setSessionCookie('', 0);
      return { ok: true as const };
    }),
});
