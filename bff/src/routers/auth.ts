import { z } from 'zod';
import { clientAddress } from '../context.js';
import { secret, text, toUser, userRecord } from '../records.js';
import { protectedProcedure, publicProcedure, router } from '../trpc.js';

const signupInput = z.strictObject({ username: text(32), email: text(254), password: secret(128) });
const loginInput = z.strictObject({ username: text(254).describe('the username or the email'), password: secret(128) });

export const authRouter = router({
  signup: publicProcedure
    .input(signupInput)
    .output(z.object({ user: userRecord }))
    .mutation(async ({ ctx, input }) => {
      const { user } = await ctx.clients.auth.signUp(input, ctx.rpc);
      return { user: toUser(user) };
    }),

  /** Also sets the session cookie, for the dashboard (httpOnly, SameSite=Strict). */
  login: publicProcedure
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

  me: protectedProcedure.output(userRecord).query(async ({ ctx }) => toUser(await ctx.clients.auth.getUser({ id: ctx.user.id }, ctx.rpc))),

  /** Revokes the token everywhere (other replicas trust their cached check for ≤ 5 s) and clears the cookie. */
  logout: protectedProcedure.output(z.object({ ok: z.literal(true) })).mutation(async ({ ctx }) => {
    await ctx.clients.auth.revokeToken({ token: ctx.token }, ctx.rpc);
    ctx.tokens.forget(ctx.token);
    ctx.setSessionCookie('', 0);
    return { ok: true as const };
  }),
});
