import { loginInput, sessionOutput, signupInput, userRecord } from '@pdash/contracts';
import { ClientError, Status } from 'nice-grpc';
import { z } from 'zod';
import { TokenRefused } from '../auth-cache.js';
import { clientAddress } from '../context.js';
import { toUser } from '../records.js';
import { protectedProcedure, publicProcedure, router } from '../trpc.js';

export const authRouter = router({
  signup: publicProcedure
    .meta({
      rest: {
        method: 'POST',
        path: '/api/auth/signup',
        status: 201,
        summary: 'Create an account (with an invitation code unless SIGNUP_MODE=open)',
        errors: [409],
      },
    })
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

  /**
   * Who is signed in: the user, or null for no token or one that no longer holds. Public and
   * always 200 (a backend that cannot be reached is still 503), so that the dashboard's first load
   * asks it without a 401 in the console.
   */
  session: publicProcedure
    .meta({ rest: { method: 'GET', path: '/api/auth/session', status: 200, summary: 'Who is signed in (user or null; always 200)' } })
    .output(sessionOutput)
    .query(async ({ ctx }) => {
      if (!ctx.token) return { user: null };
      try {
        const session = await ctx.tokens.verify(ctx.token, ctx.rpc.metadata);
        return { user: toUser(await ctx.clients.auth.getUser({ id: session.id }, ctx.rpc)) };
      } catch (err) {
        const refused =
          err instanceof TokenRefused || (err instanceof ClientError && [Status.UNAUTHENTICATED, Status.NOT_FOUND].includes(err.code));
        if (refused) return { user: null };
        throw err;
      }
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
