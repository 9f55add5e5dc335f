import type { AnyTRPCProcedure, AnyTRPCRouter } from '@trpc/server';
import { z } from 'zod';
import { appRouter } from '../routers/index.js';
import { type Access, accessOf, type Meta, type RestRoute } from '../trpc.js';

/*
 * The REST route table, built from the router alone: each query and mutation names its route in
 * its `.meta({ rest })` (trpc.ts's Meta), and its input and output schemas are on its `_def`.
 * dispatch.ts matches requests against it, openapi.ts documents it; nothing else lists routes.
 */

export type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; required?: string[]; [key: string]: unknown };

export interface CompiledRoute extends RestRoute {
  /** The procedure's dotted path, `customers.byId`. */
  procedure: string;
  access: Access;
  /** Matches the path; its groups are the `{params}`, in order. */
  pattern: RegExp;
  params: string[];
  /** The input's JSON schema (the optional wrapper taken off), or undefined when it takes none. */
  input?: JsonSchema;
  output?: z.ZodType;
}

/** The body field that the `Idempotency-Key` header fills. */
export const IDEMPOTENCY_FIELD = 'idempotencyKey';

type ProcedureDef = AnyTRPCProcedure['_def'] & { meta?: Meta; output?: z.ZodType };

/** Every procedure of a router by dotted path, with its definition (metadata, schemas). */
export function proceduresOf(router: AnyTRPCRouter): [string, ProcedureDef][] {
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure>;
  return Object.entries(procedures).map(([path, procedure]) => [path, procedure._def as ProcedureDef]);
}

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

function compile(procedure: string, def: ProcedureDef, route: RestRoute): CompiledRoute {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const pattern = new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}/?$`);
  const schema = def.inputs[0] as z.ZodType | undefined;
  const unwrapped = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  return {
    ...route,
    procedure,
    access: accessOf(def.meta),
    pattern,
    params,
    input: unwrapped && jsonSchema(unwrapped, 'input'),
    output: def.output,
  };
}

/**
 * Match order: a literal segment before a `{param}` in the same place, so that `/api/orders/stats`
 * is tried before `/api/orders/{id}` (a stable sort: otherwise the router's order).
 */
const specificity = (path: string) =>
  path
    .split('/')
    .map((segment) => (segment.startsWith('{') ? '1' : '0'))
    .join('');

/** The routes of a router's queries and mutations, in match order; two on one method and path are refused. */
export function routesOf(router: AnyTRPCRouter): CompiledRoute[] {
  const routes: CompiledRoute[] = [];
  const seen = new Map<string, string>();
  for (const [procedure, def] of proceduresOf(router)) {
    const route = def.meta?.rest;
    if (!route || def.type === 'subscription') continue;
    const key = `${route.method} ${route.path}`;
    const other = seen.get(key);
    if (other) throw new Error(`${procedure} and ${other} both claim ${key}`);
    seen.set(key, procedure);
    routes.push(compile(procedure, def, route));
  }
  return routes.sort((a, b) => specificity(a.path).localeCompare(specificity(b.path)));
}

export const ROUTES: readonly CompiledRoute[] = routesOf(appRouter);

export type RouteMatch =
  | { route: CompiledRoute; params: string[] }
  /** The path is a route's, the method none's: the methods it has, for 405's Allow. */
  | { route?: undefined; allow: string[] }
  | undefined;

/** The route of a request: its path parameters still URL-encoded; undefined when no path matches. */
export function matchRoute(method: string | undefined, pathname: string, routes: readonly CompiledRoute[] = ROUTES): RouteMatch {
  const matches = routes.filter((route) => route.pattern.test(pathname));
  if (matches.length === 0) return undefined;
  const route = matches.find((r) => r.method === method);
  if (!route) return { allow: [...new Set(matches.map((r) => r.method))] };
  return { route, params: route.pattern.exec(pathname)!.slice(1) };
}

/** The error statuses a route can answer with (API.md's table): every route's, and those its meta names. */
export function errorStatuses(route: CompiledRoute): number[] {
  const statuses = new Set<number>([400, 401, 503, ...(route.errors ?? [])]);
  if (route.method === 'POST' || route.method === 'PATCH') statuses.add(413);
  // A mutation from another origin, a role short of the one needed (API.md), a sign-up without a valid invitation.
  if (route.method !== 'GET' || (route.access !== 'public' && route.access !== 'viewer')) statuses.add(403);
  if (route.params.includes('id')) statuses.add(404);
  return [...statuses].sort((a, b) => a - b);
}
