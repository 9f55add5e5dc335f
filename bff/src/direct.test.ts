import { describe, expect, test } from 'vitest';
import { directQuery } from './direct.js';
import { appRouter } from './routers/index.js';

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
});
