import { type AnyTRPCProcedure, getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';
import { getParseFn } from '@trpc/server/unstable-core-do-not-import';
import type { Context } from './context.js';
import { toTRPCError } from './errors.js';
import { procedureDuration } from './metrics.js';
import { appRouter } from './routers/index.js';
import { type Access, accessOf, authorize, type Meta, withActor } from './trpc.js';

/*
 * Queries answered without tRPC's middleware chain: the hot path of every read (REST GETs and the
 * tRPC GET fast path, trpc-queries.ts). tRPC runs each call through its middlewares one by one,
 * copying the call's options and context at every step (~10 % of a replica's CPU on a cached get,
 * docs/benchmarks.md). A query here does what those middlewares do, once, in one function: the
 * access check of its metadata (trpc.ts `authorize`, the one check), tRPC's own input parser for
 * its schema (the same parse and the same BAD_REQUEST), its resolver, the errors of errors.ts and
 * the procedure metric. Only the check of the output against its schema is not run (the records
 * are made by records.ts's typed mappers; bff/src/trpc-queries.test.ts compares every answer with
 * tRPC's adapter's).
 *
 * A query whose procedure has a middleware beyond trpc.ts's own (a `.use()` in a router) is not
 * taken: it goes through tRPC as before.
 */

interface DirectQuery {
  path: string;
  access: Access;
  parse?: (raw: unknown) => Promise<unknown>;
  resolver: (opts: Record<string, unknown>) => Promise<unknown>;
  meta: Meta | undefined;
}

/** The queries of the router that can be answered directly, by path. */
const queries = new Map<string, DirectQuery>();
for (const [path, procedure] of Object.entries(appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>)) {
  const def = procedure._def as AnyTRPCProcedure['_def'] & {
    middlewares: unknown[];
    inputs: unknown[];
    output?: unknown;
    resolver?: DirectQuery['resolver'];
  };
  if (def.type !== 'query' || !def.resolver || def.inputs.length > 1) continue;
  const access = accessOf(def.meta as Meta | undefined);
  // trpc.ts's two (metrics and CSRF; access), the signed-in one for a role, the input, the output, the resolver.
  const expected = 2 + (access === 'public' ? 0 : 1) + def.inputs.length + (def.output ? 1 : 0) + 1;
  if (def.middlewares.length !== expected) continue;
  const parser = def.inputs[0];
  queries.set(path, {
    path,
    access,
    parse: parser ? (getParseFn(parser as Parameters<typeof getParseFn>[0]) as DirectQuery['parse']) : undefined,
    resolver: def.resolver,
    meta: def.meta as Meta | undefined,
  });
}

export const directQuery = (path: string) => queries.get(path);

/** Runs `query` with `rawInput` for the request of `ctx`: its output, or the TRPCError a procedure call would throw. */
export async function runDirect(query: DirectQuery, ctx: Context, rawInput: unknown, transport: 'rest' | 'trpc'): Promise<unknown> {
  const started = performance.now();
  let outcome = 'ok';
  try {
    let callCtx: Context & { user: Awaited<ReturnType<typeof authorize>> | undefined } = { ...ctx, user: undefined };
    if (query.access !== 'public') {
      const user = await authorize(ctx, query.access);
      callCtx = { ...ctx, user, rpc: { ...ctx.rpc, metadata: withActor(ctx.rpc.metadata, user) } };
    }
    let input: unknown = rawInput;
    if (query.parse) {
      try {
        input = await query.parse(rawInput);
      } catch (cause) {
        throw new TRPCError({ code: 'BAD_REQUEST', cause });
      }
    }
    return await query.resolver({
      ctx: callCtx,
      input,
      path: query.path,
      type: 'query',
      meta: query.meta,
      signal: undefined,
      batchIndex: 0,
      getRawInput: async () => rawInput,
    });
  } catch (err) {
    const error = toTRPCError(getTRPCErrorFromUnknown(err));
    outcome = error.code;
    throw error;
  } finally {
    procedureDuration.observe({ procedure: query.path, type: 'query', transport, outcome }, (performance.now() - started) / 1000);
  }
}
