import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import type { Context } from './context.js';
import { directQueries, directQuery, runDirect } from './direct.js';
import { appRouter } from './routers/index.js';
import { publicProcedure, router } from './trpc.js';

/*
 * Which procedures direct.ts answers itself: the plain queries. The answers are compared with tRPC's
 * adapter's in trpc-queries.test.ts (tRPC) and through the REST routes in procedures.test.ts.
 */
describe('direct queries', () => {
  test('every query is answered directly; mutations and subscriptions go through tRPC', () => {
    const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
    for (const [path, procedure] of Object.entries(procedures)) {
      if (procedure._def.type === 'query') expect(directQuery(path), path).toMatchObject({ path });
      else expect(directQuery(path), path).toBeUndefined();
    }
    expect(directQuery('customers.byId')).toMatchObject({ access: 'viewer' });
    expect(directQuery('auth.session')).toMatchObject({ access: 'public' });
    expect(directQuery('users.list')).toMatchObject({ access: 'admin' });
  });

  test("a router's own middleware keeps its query on tRPC's path; an output parser runs as tRPC runs it", async () => {
    const probe = router({
      plain: publicProcedure
        .input(z.object({ n: z.number() }))
        .output(z.object({ doubled: z.number() }))
        .query(({ input }) => ({ doubled: input.n * 2, secret: 'stripped by the output parser' })),
      used: publicProcedure.use(({ next }) => next()).query(() => 'through tRPC'),
      broken: publicProcedure.output(z.object({ count: z.number() })).query(() => ({ count: 'not a number' }) as never),
    });
    const queries = directQueries(probe);
    expect([...queries.keys()].sort()).toEqual(['broken', 'plain']);
    const ctx = {} as Context;
    expect(await runDirect(queries.get('plain')!, ctx, { n: 21 }, 'trpc')).toEqual({ doubled: 42 });
    await expect(runDirect(queries.get('plain')!, ctx, { n: 'x' }, 'trpc')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(runDirect(queries.get('broken')!, ctx, undefined, 'trpc')).rejects.toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'Output validation failed',
    });
  });
});
