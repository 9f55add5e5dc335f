import { TRPCError } from '@trpc/server';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import type { Context } from '../context.js';
import { appRouter } from '../routers/index.js';
import { createCallerFactory, protectedProcedure, publicProcedure, router } from '../trpc.js';
import { openApiDocument } from './openapi.js';
import { matchRoute, proceduresOf, ROUTES, routesOf } from './routes.js';

/* The route table comes from the procedures' own metadata: these hold for whatever the router grows. */

describe("every procedure's REST route", () => {
  const procedures = proceduresOf(appRouter);

  test('every query and mutation has one, and no two share a method and path', () => {
    const owners = new Map<string, string[]>();
    const missing: string[] = [];
    for (const [path, def] of procedures) {
      if (def.type === 'subscription') continue;
      const route = def.meta?.rest;
      if (!route) {
        missing.push(path);
        continue;
      }
      const key = `${route.method} ${route.path}`;
      owners.set(key, [...(owners.get(key) ?? []), path]);
    }
    expect(missing, 'queries and mutations without .meta({ rest })').toEqual([]);
    expect(
      [...owners].filter(([, paths]) => paths.length > 1),
      'routes claimed twice',
    ).toEqual([]);
    expect(ROUTES.map((r) => r.procedure).sort()).toEqual([...owners.values()].flat().sort());
  });

  test('subscriptions have none (they are SSE on /trpc only)', () => {
    const subscriptions = procedures.filter(([, def]) => def.type === 'subscription');
    expect(subscriptions.length).toBeGreaterThan(0);
    for (const [path, def] of subscriptions) expect(def.meta?.rest, path).toBeUndefined();
  });

  test('a GET is a query, anything else a mutation; each {param} is a field of the input', () => {
    for (const route of ROUTES) {
      const def = procedures.find(([path]) => path === route.procedure)![1];
      expect(def.type, route.procedure).toBe(route.method === 'GET' ? 'query' : 'mutation');
      for (const param of route.params) expect(route.input?.properties, `${route.procedure} {${param}}`).toHaveProperty(param);
    }
  });

  test('only auth.signup, auth.login and auth.session are public, in the metadata and the OpenAPI document', () => {
    expect(
      ROUTES.filter((r) => r.access === 'public')
        .map((r) => r.procedure)
        .sort(),
    ).toEqual(['auth.login', 'auth.session', 'auth.signup']);
    const document = openApiDocument();
    for (const route of ROUTES) {
      const operation = document.paths[route.path]![route.method.toLowerCase()] as { security?: unknown[] };
      expect(operation.security, route.procedure).toEqual(route.access === 'public' ? [] : undefined);
    }
  });
});

describe('matching', () => {
  test('a literal segment wins over a {param}; a method the path lacks lists the ones it has', () => {
    expect(matchRoute('GET', '/api/orders/stats')?.route?.procedure).toBe('orders.stats');
    expect(matchRoute('GET', '/api/orders/65f000000000000000000000')).toMatchObject({
      route: { procedure: 'orders.byId' },
      params: ['65f000000000000000000000'],
    });
    expect(matchRoute('PUT', '/api/customers')).toEqual({ allow: ['GET', 'POST'] });
    expect(matchRoute('GET', '/api/nothing')).toBeUndefined();
  });

  test('two procedures on one route are refused when the table is built', () => {
    const route = { method: 'GET', path: '/api/same', status: 200, summary: 'x' } as const;
    const twice = router({
      a: protectedProcedure.meta({ rest: route }).query(() => 1),
      b: protectedProcedure.meta({ rest: route }).query(() => 2),
    });
    expect(() => routesOf(twice)).toThrow('b and a both claim GET /api/same');
  });
});

describe('access, from the metadata alone', () => {
  const ctx = { req: { url: '/trpc/x' }, sameOrigin: true, token: undefined } as unknown as Context;
  const caller = createCallerFactory(
    router({
      open: publicProcedure.query(() => 'open'),
      closed: publicProcedure.meta({ access: 'viewer' }).query(() => 'closed'),
      signedIn: protectedProcedure.input(z.object({}).optional()).query(() => 'signed in'),
    }),
  )(ctx);

  test('public runs without a token; signedIn, whichever builder it came from, is refused', async () => {
    expect(await caller.open()).toBe('open');
    await expect(caller.closed()).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/^token: missing/) });
    await expect(caller.signedIn()).rejects.toBeInstanceOf(TRPCError);
  });
});
