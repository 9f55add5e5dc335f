import { type AnyTRPCProcedure, getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';
import { getParseFn } from '@trpc/server/unstable-core-do-not-import';
import type { Context } from './context.js';
import { toTRPCError } from './errors.js';
import { procedureDuration } from './metrics.js';
import { appRouter } from './routers/index.js';
import { type Access, accessOf, authorize, type Meta, ownMiddlewares, withActor } from './trpc.js';

/*
 * Queries answered without tRPC's middleware chain: the hot path of every read (REST GETs and the
 * tRPC GET fast path, trpc-queries.ts). tRPC runs each call through its middlewares one by one,
 * copying the call's options and context at every step (~10 % of a replica's CPU on a cached get,
 * docs/benchmarks.md). A query here does what those middlewares do, once, in one function: the
 * access check of its metadata (trpc.ts `authorize`, the one check), tRPC's own input parser for
 * its schema (the same parse and the same BAD_REQUEST), its resolver, its output parser where it
 * has one (what it strips is stripped here too), the errors of errors.ts and the procedure metric.
 *
 * A query whose procedure has a middleware beyond trpc.ts's own (a `.use()` in a router) is not
 * taken: it goes through tRPC as before.
 */

interface DirectQuery {
  path: string;
  access: Access;
  parse?: (raw: unknown) => Promise<unknown>;
  parseOutput?: (raw: unknown) => Promise<unknown>;
  resolver: (opts: Record<string, unknown>) => Promise<unknown>;
  meta: Meta | undefined;
}

type ParserArg = Parameters<typeof getParseFn>[0];

/**
 * The queries of `router` that can be answered directly, by path: those whose middlewares are
 * trpc.ts's own (`ownMiddlewares`, compared by identity), their input and output parsers, and the
 * resolver tRPC puts last.
 */
export function directQueries(router: { _def: { procedures: object } }): Map<string, DirectQuery> {
  const queries = new Map<string, DirectQuery>();
  for (const [path, procedure] of Object.entries(router._def.procedures as Record<string, AnyTRPCProcedure>)) {
    const def = procedure._def as AnyTRPCProcedure['_def'] & {
      middlewares: { _type?: string }[];
      inputs: unknown[];
      output?: unknown;
      resolver?: DirectQuery['resolver'];
    };
    if (def.type !== 'query' || !def.resolver || def.inputs.length > 1) continue;
    const plain = def.middlewares
      .slice(0, -1)
      .every((middleware) => ownMiddlewares.has(middleware) || middleware._type === 'input' || middleware._type === 'output');
    if (!plain) continue;
    queries.set(path, {
      path,
      access: accessOf(def.meta as Meta | undefined),
      parse: def.inputs[0] ? (getParseFn(def.inputs[0] as ParserArg) as DirectQuery['parse']) : undefined,
      parseOutput: def.output ? (getParseFn(def.output as ParserArg) as DirectQuery['parseOutput']) : undefined,
      resolver: def.resolver,
      meta: def.meta as Meta | undefined,
    });
  }
  return queries;
}

const queries = directQueries(appRouter);

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
    const output = await query.resolver({
      ctx: callCtx,
      input,
      path: query.path,
      type: 'query',
      meta: query.meta,
      signal: undefined,
      batchIndex: 0,
      getRawInput: async () => rawInput,
    });
    if (!query.parseOutput) return output;
    try {
      return await query.parseOutput(output);
    } catch (cause) {
      throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Output validation failed', cause });
    }
  } catch (err) {
    const error = toTRPCError(getTRPCErrorFromUnknown(err));
    outcome = error.code;
    throw error;
  } finally {
    procedureDuration.observe({ procedure: query.path, type: 'query', transport, outcome }, (performance.now() - started) / 1000);
  }
}
