import { idempotencyKey, orderListInput, partyListInput } from '@pdash/contracts';
import { type CompiledRoute, errorStatuses, IDEMPOTENCY_FIELD, type JsonSchema, jsonSchema, ROUTES } from './routes.js';

/*
 * The OpenAPI 3 document of the REST fallback (GET /api/openapi.json), from the route table alone:
 * paths, statuses and security from the procedures' metadata, schemas from their zod schemas.
 */

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', example: 'NOT_FOUND', description: 'the tRPC error code' },
        message: { type: 'string', example: 'no customer 65f0c0ffee0000000000beef', description: 'names the field or record at fault' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

const ERRORS: Record<number, string> = {
  400: 'malformed input, bad id, unknown field',
  401: 'no token, or a bad, expired or revoked one; wrong password; a disabled account',
  403: "the caller's role does not allow it (the message names the role needed); a sign-up without a valid invitation; a cross-origin mutation",
  404: 'no such record',
  409: 'duplicate, stale version, still referred to by orders, or the last enabled admin',
  413: 'body larger than 1 MiB (a CSV import: 10 MiB)',
  415: 'a body of another type than the route takes (JSON; text/csv for an import)',
  422: 'an order names a customer or supplier that does not exist',
  429: 'too many login attempts (see Retry-After)',
  503: 'a backend service is unreachable',
};

function operationOf(route: CompiledRoute): Record<string, unknown> {
  const parameters: unknown[] = route.params.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: route.input?.properties?.[name] ?? { type: 'string' },
  }));
  const operation: Record<string, unknown> = {
    operationId: route.procedure.replace('.', '_'),
    summary: route.summary,
    tags: [route.procedure.split('.')[0]],
    parameters,
    responses: {
      [String(route.status)]: {
        description: 'OK',
        content: { 'application/json': { schema: route.output ? jsonSchema(route.output, 'output') : {} } },
      },
      ...Object.fromEntries(errorStatuses(route).map((status) => [String(status), { $ref: `#/components/responses/E${status}` }])),
    },
  };
  if (route.access === 'public') operation.security = [];
  const rest = route.input && withoutProperties(route.input, route.params);
  if (rest && (route.method === 'GET' || route.method === 'DELETE')) {
    for (const [name, schema] of Object.entries(rest.properties ?? {})) {
      parameters.push({ name, in: 'query', required: rest.required?.includes(name) ?? false, schema });
    }
  } else if (rest && Object.keys(rest.properties ?? {}).length > 0) {
    operation.requestBody = { required: true, content: { 'application/json': { schema: rest } } };
    const key = rest.properties?.[IDEMPOTENCY_FIELD];
    if (key)
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: `the body's ${IDEMPOTENCY_FIELD} as a header; when both are given they must be equal`,
        schema: key,
      });
  }
  return operation;
}

export function openApiDocument(routes: readonly CompiledRoute[] = ROUTES) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operationOf(route);
  }
  for (const kind of ['customers', 'suppliers', 'orders'] as const) Object.assign(paths, transferPaths(kind));
  return {
    openapi: '3.0.3',
    info: {
      title: 'pdash API',
      version: '1.0.0',
      description: 'The REST fallback of the pdash tRPC API (/trpc): the same procedures, validation and errors.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    components: {
      schemas: { Error: errorSchema },
      responses: Object.fromEntries(
        Object.entries(ERRORS).map(([status, description]) => [
          `E${status}`,
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'pdash_session' },
      },
    },
    paths,
  };
}

/** The CSV routes (bff/src/rest/transfer.ts), which are not procedures: described by hand. */
function transferPaths(kind: 'customers' | 'suppliers' | 'orders') {
  const ref = (status: number) => ({ $ref: `#/components/responses/E${status}` });
  const columns =
    kind === 'orders'
      ? 'customerId or customerEmail (both: the id names the party, the email must be its), the same for the supplier, totalCents, createdAt (admins); customerName and supplierName are ignored'
      : 'name, email, phone, address, and as an export writes them id (one no record has had) and createdAt (admins)';
  // The list filters, with the list's own rules (the same zod schemas as the procedures').
  const list = jsonSchema(kind === 'orders' ? orderListInput : partyListInput, 'input');
  const filters = (kind === 'orders' ? ['customerId', 'supplierId'] : ['q']).map((name) => ({
    name,
    in: 'query',
    required: false,
    schema: list.properties?.[name] ?? { type: 'string' },
  }));
  return {
    [`/api/${kind}/import`]: {
      post: {
        operationId: `${kind}_import`,
        summary: `Import ${kind} from CSV, all or nothing (columns: ${columns}; up to 10 MiB and 50,000 rows)`,
        tags: [kind],
        parameters: [
          { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } },
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: false,
            schema: jsonSchema(idempotencyKey, 'input'),
          },
        ],
        requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } } } },
        responses: {
          '200': { description: 'dry run: the file would be imported', content: { 'application/json': { schema: { type: 'object' } } } },
          '201': { description: 'imported: {created, importId}', content: { 'application/json': { schema: { type: 'object' } } } },
          '422': {
            description: 'rows that cannot be imported: error.rows [{row, field, message}]; nothing was written',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
          ...Object.fromEntries([400, 401, 403, 413, 415, 503].map((status) => [String(status), ref(status)])),
        },
      },
    },
    [`/api/${kind}/export`]: {
      get: {
        operationId: `${kind}_export`,
        summary: `Every ${kind === 'orders' ? "order (with its parties' emails and names)" : kind.slice(0, -1)} matching the list filters, as CSV`,
        tags: [kind],
        parameters: filters,
        responses: {
          '200': { description: 'CSV, streamed', content: { 'text/csv': { schema: { type: 'string' } } } },
          ...Object.fromEntries([400, 401, ...(kind === 'orders' ? [404] : []), 503].map((status) => [String(status), ref(status)])),
        },
      },
    },
  };
}

function withoutProperties(schema: JsonSchema, names: string[]): JsonSchema {
  const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([name]) => !names.includes(name)));
  const required = schema.required?.filter((name) => !names.includes(name));
  const { required: _, ...rest } = schema;
  return { ...rest, properties, ...(required?.length ? { required } : {}) };
}
