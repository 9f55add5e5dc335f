import { initTRPC, TRPCError } from '@trpc/server';
import { TokenRefused } from './auth-cache.js';
import type { Context } from './context.js';
import { publicMessage, toTRPCError } from './errors.js';
import { procedureDuration } from './metrics.js';

/** How long a client waits without even a ping before it reconnects; the server pings more often. */
export const SSE_PING_MS = 10_000;
export const SSE_RECONNECT_AFTER_INACTIVITY_MS = 25_000;

const t = initTRPC.context<Context>().create({
  // Stack traces never leave the process, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    return {
      code: shape.code,
      message: publicMessage(error),
      data: { code: shape.data.code, httpStatus: shape.data.httpStatus, path: shape.data.path },
    };
  },
  sse: {
    ping: { enabled: true, intervalMs: SSE_PING_MS },
    client: { reconnectAfterInactivityMs: SSE_RECONNECT_AFTER_INACTIVITY_MS },
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure: gRPC failures become the tRPC errors of API.md (errors.ts), a mutation from
 * a page of another origin is refused before it runs (CSRF; the cookie is SameSite=Strict too),
 * and its duration and outcome are measured (metrics.ts; a subscription's is its set-up).
 */
const base = t.procedure.use(async ({ ctx, type, path, next }) => {
  if (type === 'mutation' && !ctx.sameOrigin)
    throw new TRPCError({ code: 'FORBIDDEN', message: 'origin: cross-origin requests are refused' });
  const started = performance.now();
  const result = await next();
  const error = result.ok ? undefined : toTRPCError(result.error);
  const transport = ctx.req.url?.startsWith('/api/') ? 'rest' : 'trpc';
  procedureDuration.observe({ procedure: path, type, transport, outcome: error?.code ?? 'ok' }, (performance.now() - started) / 1000);
  if (error) throw error;
  return result;
});

export const publicProcedure = base;

/** A procedure for a signed-in user: the token is verified (auth-cache.ts) and the user put on ctx. */
export const protectedProcedure = base.use(async ({ ctx, next }) => {
  if (!ctx.token)
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'token: missing; log in and send it as Authorization: Bearer <token>' });
  let user: Awaited<ReturnType<Context['tokens']['verify']>>;
  try {
    user = await ctx.tokens.verify(ctx.token, ctx.rpc.metadata);
  } catch (err) {
    if (err instanceof TokenRefused) throw new TRPCError({ code: 'UNAUTHORIZED', message: `token: ${err.message}` });
    const error = toTRPCError(err);
    // "token: invalid token", "token: revoked": the field at fault is the token.
    if (error.code !== 'UNAUTHORIZED') throw error;
    throw new TRPCError({ code: 'UNAUTHORIZED', message: `token: ${error.message.replace(/^token /, '')}`, cause: err });
  }
  return next({ ctx: { user, token: ctx.token } });
});
