import { ACTOR_ID_KEY, ACTOR_NAME_KEY } from '@pdash/backend-shared/actor';
import { type Role, roleAllows } from '@pdash/contracts';
import { initTRPC, TRPCError } from '@trpc/server';
import { Metadata } from 'nice-grpc';
import { TokenRefused } from './auth-cache.js';
import type { Context } from './context.js';
import { publicMessage, toTRPCError } from './errors.js';
import { procedureDuration } from './metrics.js';

/** How long a client waits without even a ping before it reconnects; the server pings more often. */
export const SSE_PING_MS = 10_000;
export const SSE_RECONNECT_AFTER_INACTIVITY_MS = 25_000;

/**
 * Who may call a procedure: `public` anyone; otherwise a signed-in caller whose role allows at
 * least the one named (viewer < editor < admin, API.md), checked by the one middleware below.
 */
export type Access = 'public' | Role;

/** A procedure's REST fallback route (rest/routes.ts builds the adapter and the OpenAPI document from these). */
export interface RestRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** OpenAPI style, `/api/customers/{id}`; each `{name}` is a field of the input. */
  path: `/api/${string}`;
  /** The status of a success: 201 for what creates a record. */
  status: 200 | 201;
  /** The OpenAPI operation's summary. */
  summary: string;
  /**
   * The error statuses the procedure answers with beyond every route's (400, 401, 503; 413 with a
   * body; 404 with an `{id}`; 403 for a mutation or a role above viewer), for the OpenAPI document:
   * 403 (a query with rules of its own), 409, 422, 429.
   */
  errors?: readonly (403 | 409 | 422 | 429)[];
}

/** What each procedure says about itself with `.meta()` (tRPC's typed metadata). */
export interface Meta {
  /** Unset: `viewer` (publicProcedure sets `public`). */
  access?: Access;
  /** Every query and mutation has one (rest/routes.test.ts); subscriptions have none. */
  rest?: RestRoute;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    // Stack traces never leave the process, whatever NODE_ENV says.
    isDev: false,
    // A procedure that says nothing needs a signed-in caller (any role).
    defaultMeta: { access: 'viewer' },
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

type SessionUser = Awaited<ReturnType<Context['tokens']['verify']>>;

/** The access a procedure needs, from its metadata (a viewer unless it says otherwise). */
export const accessOf = (meta: Meta | undefined): Access => meta?.access ?? 'viewer';

/**
 * Every procedure: gRPC failures become the tRPC errors of API.md (errors.ts), a mutation from
 * a page of another origin is refused before it runs (CSRF; the cookie is SameSite=Strict too),
 * and its duration and outcome are measured (metrics.ts; a subscription's is its set-up).
 * Then the access its metadata names is checked, here and nowhere else: for a role the token is
 * verified (auth-cache.ts), the caller's role compared (403 naming the role needed), the user put
 * on ctx and named in the metadata of every backend call (the history's actor).
 */
const base = t.procedure
  .use(async ({ ctx, type, path, next }) => {
    if (type === 'mutation' && !ctx.sameOrigin)
      throw new TRPCError({ code: 'FORBIDDEN', message: 'origin: cross-origin requests are refused' });
    const started = performance.now();
    const result = await next();
    const error = result.ok ? undefined : toTRPCError(result.error);
    const transport = ctx.req.url?.startsWith('/api/') ? 'rest' : 'trpc';
    procedureDuration.observe({ procedure: path, type, transport, outcome: error?.code ?? 'ok' }, (performance.now() - started) / 1000);
    if (error) throw error;
    return result;
  })
  .use(async ({ ctx, meta, next }) => {
    const access = accessOf(meta);
    if (access === 'public') return next({ ctx: { user: undefined as SessionUser | undefined } });
    const user = await authorize(ctx, access);
    return next({ ctx: { user, rpc: { ...ctx.rpc, metadata: withActor(ctx.rpc.metadata, user) } } });
  });

/**
 * The signed-in caller if their role allows `access`: UNAUTHORIZED without a valid token,
 * FORBIDDEN naming the role needed. The one check, for procedures (above) and for the REST routes
 * that are not procedures (CSV import and export).
 */
export async function authorize(ctx: Context, access: Role): Promise<SessionUser> {
  const user = await verifiedUser(ctx);
  if (!roleAllows(user.role, access)) throw new TRPCError({ code: 'FORBIDDEN', message: `role: ${access} needed (you are ${user.role})` });
  return user;
}

/** The call metadata with the acting user (@pdash/backend-shared/audit reads it for the history). */
export function withActor(metadata: Metadata | undefined, user: SessionUser): Metadata {
  const withUser = metadata ?? Metadata();
  withUser.set(ACTOR_ID_KEY, user.id);
  withUser.set(ACTOR_NAME_KEY, user.username);
  return withUser;
}

async function verifiedUser(ctx: Context): Promise<SessionUser> {
  if (!ctx.token)
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'token: missing; log in and send it as Authorization: Bearer <token>' });
  try {
    return await ctx.tokens.verify(ctx.token, ctx.rpc.metadata);
  } catch (err) {
    if (err instanceof TokenRefused) throw new TRPCError({ code: 'UNAUTHORIZED', message: `token: ${err.message}` });
    const error = toTRPCError(err);
    // "token: invalid token", "token: revoked": the field at fault is the token.
    if (error.code !== 'UNAUTHORIZED') throw error;
    throw new TRPCError({ code: 'UNAUTHORIZED', message: `token: ${error.message.replace(/^token /, '')}`, cause: err });
  }
}

export const publicProcedure = base.meta({ access: 'public' });

/**
 * A procedure for a signed-in user of at least `role`: `ctx.user` and `ctx.token` are set (the
 * check above made them; this only gives them their types, and refuses to run if a procedure's
 * meta made it public).
 */
const signedInAs = (role: Role) =>
  base.meta({ access: role }).use(({ ctx, next }) => {
    if (!ctx.user || !ctx.token)
      throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'a signed-in procedure ran without a user' });
    return next({ ctx: { user: ctx.user, token: ctx.token } });
  });

/** Every query, orders.onChange, auth.*: any signed-in user. */
export const protectedProcedure = signedInAs('viewer');
/** Create, update, delete (and import) of customers, suppliers and orders. */
export const editorProcedure = signedInAs('editor');
/** users.* */
export const adminProcedure = signedInAs('admin');

/** The middlewares of the procedures above: direct.ts does their work itself for a plain query. */
export const ownMiddlewares: ReadonlySet<unknown> = new Set(
  [publicProcedure, protectedProcedure, editorProcedure, adminProcedure].flatMap((procedure) => procedure._def.middlewares),
);
