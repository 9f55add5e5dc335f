import { rest, signedIn, startStack } from '@pdash/testing/bff';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

/*
 * The OpenAPI document tells the whole truth: a client that builds its requests from the document
 * alone (as schema-driven clients and fuzzers do) is never told 400, and nothing it sends makes a
 * 5xx. Values are generated from each operation's own schemas (lengths, patterns, ranges, required
 * fields); other 4xx answers are the record's state speaking (404, 409, 422, 401 for a wrong
 * password), not a rule the document kept quiet about.
 */

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  allOf?: Schema[];
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  enum?: unknown[];
  nullable?: boolean;
};
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Schema };
type Operation = { operationId: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } };

const RUNS = 25;
// A pattern that only excludes characters ("^[^…]*$") narrows a string; another one shapes it.
const EXCLUDING = /^\^\[\^[^\]]*\]\*\$$/;

/** Values the schema calls valid, and nothing else. */
function valuesOf(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(valuesOf));
  switch (schema.type) {
    case 'object': {
      const properties = schema.properties ?? {};
      return fc.record(Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, valuesOf(property)])), {
        requiredKeys: schema.required ?? [],
      });
    }
    case 'integer':
    case 'number': {
      const min = (schema.minimum ?? -(2 ** 31)) + (schema.exclusiveMinimum === true ? 1 : 0);
      const max = (schema.maximum ?? 2 ** 31 - 1) - (schema.exclusiveMaximum === true ? 1 : 0);
      return schema.type === 'integer' ? fc.integer({ min, max }) : fc.double({ min, max, noNaN: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(valuesOf(schema.items ?? {}), { maxLength: 3 });
    case 'string':
      return stringsOf(schema);
    default:
      return fc.constant(undefined);
  }
}

function stringsOf(schema: Schema): fc.Arbitrary<string> {
  const patterns = [schema.pattern, ...(schema.allOf ?? []).map((part) => part.pattern)]
    .filter((pattern): pattern is string => pattern !== undefined)
    .map((pattern) => new RegExp(pattern, 'u'));
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 40, 300);
  const shaping = patterns.find((pattern) => !EXCLUDING.test(pattern.source));
  const base = shaping
    ? fc.stringMatching(shaping)
    : fc.string({ unit: fc.oneof(fc.constant(' '), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength, maxLength });
  return base.filter((value) => value.length >= minLength && value.length <= maxLength && patterns.every((p) => p.test(value)));
}

let stack: Awaited<ReturnType<typeof startStack>>;
let url: string;
let token: string;
let document: { paths: Record<string, Record<string, Operation>> };
const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startStack();
  url = stack.bff.url;
  ({ accessToken: token } = await signedIn(url));
  const post = async (path: string, body: unknown) => (await rest(url, 'POST', path, { token, body })).body as { id: string };
  ids.customers = (await post('/api/customers', { name: 'Fuzz customer' })).id;
  ids.suppliers = (await post('/api/suppliers', { name: 'Fuzz supplier' })).id;
  ids.orders = (await post('/api/orders', { customerId: ids.customers, supplierId: ids.suppliers, totalCents: 100 })).id;
  document = (await (await fetch(`${url}/api/openapi.json`)).json()) as typeof document;
}, 60_000);
afterAll(() => stack?.stop());

/** Every operation but logout, which would end the session the others use (its own test is below). */
const operations = () =>
  Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, operation]) => operation.operationId !== 'auth_logout')
      .map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
  );

describe('requests built from /api/openapi.json alone', () => {
  test('the document has operations to try', () => {
    expect(operations().length).toBeGreaterThanOrEqual(15);
  });

  test('are never refused as malformed, and never fail with a 5xx', async () => {
    for (const { path, method, operation } of operations()) {
      const parameters = operation.parameters ?? [];
      const query = parameters.filter((p) => p.in === 'query');
      const headers = parameters.filter((p) => p.in === 'header');
      const body = operation.requestBody?.content['application/json']?.schema;
      const request = fc.record({
        // A path id is one of ours half the time (so the route does its work), any valid id otherwise.
        id: fc.oneof(fc.constant(ids[path.split('/')[2] ?? ''] ?? ''), stringsOf(parameters.find((p) => p.name === 'id')?.schema ?? {})),
        query: valuesOf({ type: 'object', properties: Object.fromEntries(query.map((p) => [p.name, p.schema])), required: [] }),
        headers: valuesOf({ type: 'object', properties: Object.fromEntries(headers.map((p) => [p.name, p.schema])), required: [] }),
        body: body ? valuesOf(body) : fc.constant(undefined),
      });
      await fc.assert(
        fc.asyncProperty(request, async ({ id, query, headers: extra, body: input }) => {
          // The one rule a query's parameters cannot state in OpenAPI 3.0, said in supplierId's
          // description and API.md's error table: customerId or supplierId, not both.
          const params = query as Record<string, unknown>;
          if (params.customerId !== undefined) delete params.supplierId;
          // Likewise an Idempotency-Key header and the body's idempotencyKey, when both are sent, are one key.
          const sentHeaders = extra as Record<string, string | undefined>;
          const key = (input as Record<string, unknown> | undefined)?.idempotencyKey;
          if (typeof key === 'string' && sentHeaders['Idempotency-Key'] !== undefined) sentHeaders['Idempotency-Key'] = key;
          const search = new URLSearchParams();
          for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
          const target = `${path.replace('{id}', encodeURIComponent(id || ids.customers!))}${search.size ? `?${search}` : ''}`;
          const answer = await rest(url, method, target, {
            token,
            body: input,
            headers: Object.fromEntries(Object.entries(sentHeaders).filter(([, v]) => v !== undefined)) as Record<string, string>,
          });
          const what = `${method} ${target} ${JSON.stringify(input)} → ${answer.status} ${JSON.stringify(answer.body)}`;
          expect(answer.status, what).toBeLessThan(500);
          expect(answer.status, what).not.toBe(400);
        }),
        { numRuns: RUNS },
      );
    }
  }, 120_000);

  test('logout, built the same way, ends a session without a 4xx or 5xx', async () => {
    const session = await signedIn(url);
    const answer = await rest(url, 'POST', '/api/auth/logout', { token: session.accessToken });
    expect(answer.status).toBe(200);
  });
});
