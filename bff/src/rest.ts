import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Logger } from '@pdash/backend-shared/logger';
import { type AnyTRPCProcedure, getTRPCErrorFromUnknown, type inferRouterInputs, TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { z } from 'zod';
import { MAX_BODY_BYTES } from './config.js';
import { type ContextDeps, createContext, requestIdOf } from './context.js';
import { logFailure, publicMessage, retryAfterSeconds, toTRPCError } from './errors.js';
import { type AppRouter, appRouter } from './routers/index.js';
import { createCallerFactory } from './trpc.js';

/*
 * The REST fallback: API.md's REST routes call the very same procedures (through a server-side
 * caller, so validation, auth and errors are the same), and the OpenAPI 3 document is built from
 * those procedures' zod schemas. Written here rather than with trpc-to-openapi, whose error bodies
 * ({message, code, issues}, "Input validation failed") are not API.md's `{error: {code, message}}`.
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Inputs = inferRouterInputs<AppRouter>;
/** "customers.list" and the like: every procedure of the app router, by its dotted path. */
type ProcedurePath = { [N in keyof Inputs & string]: `${N}.${keyof Inputs[N] & string}` }[keyof Inputs & string];

interface Route {
  method: Method;
  /** OpenAPI style: `/api/customers/{id}`. */
  path: string;
  procedure: ProcedurePath;
  summary: string;
  /** 201 for what creates a record. */
  status?: number;
}

const partyRoutes = (plural: 'customers' | 'suppliers', one: string): Route[] => [
  { method: 'GET', path: `/api/${plural}`, procedure: `${plural}.list`, summary: `List ${plural}, newest first` },
  { method: 'POST', path: `/api/${plural}`, procedure: `${plural}.create`, summary: `Create a ${one}`, status: 201 },
  { method: 'GET', path: `/api/${plural}/{id}`, procedure: `${plural}.byId`, summary: `Get a ${one}` },
  { method: 'PATCH', path: `/api/${plural}/{id}`, procedure: `${plural}.update`, summary: `Update a ${one} (409 when version is stale)` },
  {
    method: 'DELETE',
    path: `/api/${plural}/{id}`,
    procedure: `${plural}.delete`,
    summary: `Delete a ${one} (409 while orders refer to it)`,
  },
];

export const ROUTES: Route[] = [
  { method: 'POST', path: '/api/auth/signup', procedure: 'auth.signup', summary: 'Create an account', status: 201 },
  { method: 'POST', path: '/api/auth/login', procedure: 'auth.login', summary: 'Log in (also sets the session cookie)' },
  { method: 'GET', path: '/api/auth/me', procedure: 'auth.me', summary: 'The signed-in user' },
  { method: 'POST', path: '/api/auth/logout', procedure: 'auth.logout', summary: 'Revoke the token and clear the cookie' },
  ...partyRoutes('customers', 'customer'),
  ...partyRoutes('suppliers', 'supplier'),
  {
    method: 'GET',
    path: '/api/orders',
    procedure: 'orders.list',
    summary: 'List orders, newest first (customerId or supplierId, not both)',
  },
  {
    method: 'POST',
    path: '/api/orders',
    procedure: 'orders.create',
    summary: 'Create an order (422 when a reference does not exist)',
    status: 201,
  },
  { method: 'GET', path: '/api/orders/stats', procedure: 'orders.stats', summary: 'Order count and revenue per day and top suppliers' },
  { method: 'GET', path: '/api/orders/{id}', procedure: 'orders.byId', summary: 'Get an order' },
  { method: 'PATCH', path: '/api/orders/{id}', procedure: 'orders.update', summary: 'Update an order' },
  { method: 'DELETE', path: '/api/orders/{id}', procedure: 'orders.delete', summary: 'Delete an order' },
];

const PUBLIC_PROCEDURES = new Set<ProcedurePath>(['auth.signup', 'auth.login']);

/** The router's procedures by dotted path (their `_def` keeps the input and output schemas). */
const procedureAt = (path: ProcedurePath) =>
  (appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>)[path]!._def as AnyTRPCProcedure['_def'] & {
    output?: z.ZodType;
  };

/** A procedure's input schema (the optional wrapper taken off), or undefined when it takes none. */
function inputSchema(path: ProcedurePath): z.ZodType | undefined {
  const schema = procedureAt(path).inputs[0] as z.ZodType | undefined;
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}

type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; required?: string[]; [key: string]: unknown };

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, target: 'openapi-3.0', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  params: string[];
  input?: JsonSchema;
}

const compiled: CompiledRoute[] = ROUTES.map((route) => {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const pattern = new RegExp(`^${route.path.replace(/\{\w+\}/g, '([^/]+)')}/?$`);
  const schema = inputSchema(route.procedure);
  return { ...route, pattern, params, input: schema && jsonSchema(schema, 'input') };
});

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function createRestHandler(deps: ContextDeps) {
  const createCaller = createCallerFactory(appRouter);
  const openApi = JSON.stringify(openApiDocument());

  return async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL) {
    try {
      if (req.method === 'GET' && url.pathname === '/api/openapi.json') return send(res, 200, openApi, 'application/json');
      if (req.method === 'GET' && (url.pathname === '/api/docs' || url.pathname.startsWith('/api/docs/')))
        return await serveDocs(res, url.pathname);

      const matches = compiled.filter((route) => route.pattern.test(url.pathname));
      if (matches.length === 0) throw new HttpProblem(404, 'NOT_FOUND', `no route ${url.pathname}`);
      const route = matches.find((r) => r.method === req.method);
      if (!route) {
        throw new HttpProblem(405, 'METHOD_NOT_SUPPORTED', `${req.method} is not supported on ${url.pathname}`, {
          Allow: matches.map((r) => r.method).join(', '),
        });
      }
      const values = route.pattern.exec(url.pathname)!.slice(1);
      const params = Object.fromEntries(route.params.map((name, i) => [name, decodePathSegment(name, values[i]!)]));
      const body = route.method === 'POST' || route.method === 'PATCH' ? await readJsonBody(req) : {};
      if (route.input?.properties?.[IDEMPOTENCY_FIELD]) takeIdempotencyKey(req, body);
      const input = route.input ? { ...queryInput(url, route.input), ...body, ...params } : undefined;

      const caller = createCaller(createContext(deps, req, res));
      const call = route.procedure.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (
        input: unknown,
      ) => Promise<unknown>;
      const output = await call(input);
      send(res, route.status ?? 200, JSON.stringify(output), 'application/json');
    } catch (err) {
      sendError(res, err, deps.log, req, url);
    }
  };
}

const IDEMPOTENCY_FIELD = 'idempotencyKey';

/** The `Idempotency-Key` header, HTTP's usual place for it, as the body's `idempotencyKey`. */
function takeIdempotencyKey(req: IncomingMessage, body: Record<string, unknown>) {
  const header = req.headers['idempotency-key'];
  if (typeof header !== 'string') return;
  if (body[IDEMPOTENCY_FIELD] !== undefined && body[IDEMPOTENCY_FIELD] !== header)
    throw new HttpProblem(400, 'BAD_REQUEST', `${IDEMPOTENCY_FIELD}: differs from the Idempotency-Key header`);
  body[IDEMPOTENCY_FIELD] = header;
}

function decodePathSegment(name: string, segment: string) {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpProblem(400, 'BAD_REQUEST', `${name}: is not a valid URL segment`);
  }
}

/** Query parameters as input: the last of repeated ones; numbers where the schema wants a number. */
function queryInput(url: URL, schema: JsonSchema): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) {
    const type = schema.properties?.[key]?.type;
    input[key] = (type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return input;
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE', 'body: must be application/json');
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'BAD_REQUEST', 'body: is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpProblem(400, 'BAD_REQUEST', 'body: must be a JSON object');
  return body as Record<string, unknown>;
}

const tooLarge = () => new HttpProblem(413, 'PAYLOAD_TOO_LARGE', `body: larger than ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });

function send(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function sendError(res: ServerResponse, err: unknown, log: Logger, req: IncomingMessage, url: URL) {
  if (err instanceof HttpProblem) {
    return send(res, err.status, JSON.stringify({ error: { code: err.code, message: err.message } }), 'application/json', err.headers);
  }
  const error = toTRPCError(err instanceof TRPCError ? err : getTRPCErrorFromUnknown(err));
  const status = getHTTPStatusCodeFromError(error);
  logFailure(log, requestIdOf(req), url.pathname, error);
  const retryAfter = retryAfterSeconds(error);
  send(
    res,
    status,
    JSON.stringify({ error: { code: error.code, message: publicMessage(error) } }),
    'application/json',
    retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
  );
}

/* Interactive docs: Swagger UI from the swagger-ui-dist package, no CDN, no inline script. */

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist'));
const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>pdash API</title><link rel="stylesheet" href="/api/docs/swagger-ui.css"><link rel="icon" href="/api/docs/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div><script src="/api/docs/swagger-ui-bundle.js"></script><script src="/api/docs/init.js"></script></body>
</html>
`;
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;
const DOCS_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};
const docsCache = new Map<string, Buffer>();

async function serveDocs(res: ServerResponse, pathname: string) {
  const name = pathname.replace(/^\/api\/docs\/?/, '');
  const csp = {
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  };
  if (name === '') return send(res, 200, DOCS_PAGE, 'text/html; charset=utf-8', csp);
  if (name === 'init.js') return send(res, 200, DOCS_INIT, 'text/javascript; charset=utf-8');
  const type = DOCS_FILES[name];
  if (!type) throw new HttpProblem(404, 'NOT_FOUND', `no route ${pathname}`);
  let file = docsCache.get(name);
  if (!file) {
    file = await readFile(join(swaggerDir, name));
    docsCache.set(name, file);
  }
  res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  res.end(file);
}

/* The OpenAPI 3 document. */

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
  401: 'no token, or a bad, expired or revoked one; wrong password',
  404: 'no such record',
  409: 'duplicate, stale version, or still referred to by orders',
  413: 'body larger than 1 MiB',
  422: 'an order names a customer or supplier that does not exist',
  429: 'too many login attempts (see Retry-After)',
  503: 'a backend service is unreachable',
};

/** The error statuses a route can answer with (API.md's table). */
function errorsOf(route: CompiledRoute): number[] {
  const [, name] = route.procedure.split('.');
  const statuses = [400, 401, 503];
  if (route.method === 'POST' || route.method === 'PATCH') statuses.push(413);
  if (route.params.includes('id')) statuses.push(404);
  if (name === 'update' || name === 'signup' || (name === 'delete' && !route.procedure.startsWith('orders'))) statuses.push(409);
  if (route.procedure === 'orders.create' || route.procedure === 'orders.update') statuses.push(422);
  if (route.procedure === 'auth.login') statuses.push(429);
  return statuses.sort();
}

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of compiled) {
    const { output } = procedureAt(route.procedure);
    const operation: Record<string, unknown> = {
      operationId: route.procedure.replace('.', '_'),
      summary: route.summary,
      tags: [route.procedure.split('.')[0]],
      parameters: route.params.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: route.input?.properties?.[name] ?? { type: 'string' },
      })),
      responses: {
        [String(route.status ?? 200)]: {
          description: 'OK',
          content: { 'application/json': { schema: output ? jsonSchema(output, 'output') : {} } },
        },
        ...Object.fromEntries(errorsOf(route).map((status) => [String(status), { $ref: `#/components/responses/E${status}` }])),
      },
    };
    if (PUBLIC_PROCEDURES.has(route.procedure)) operation.security = [];
    const rest = route.input && withoutProperties(route.input, route.params);
    if (rest && (route.method === 'GET' || route.method === 'DELETE')) {
      for (const [name, schema] of Object.entries(rest.properties ?? {})) {
        (operation.parameters as unknown[]).push({ name, in: 'query', required: rest.required?.includes(name) ?? false, schema });
      }
    } else if (rest && Object.keys(rest.properties ?? {}).length > 0) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: rest } } };
      const key = rest.properties?.[IDEMPOTENCY_FIELD];
      if (key) (operation.parameters as unknown[]).push({ name: 'Idempotency-Key', in: 'header', required: false, schema: key });
    }
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation;
  }
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

function withoutProperties(schema: JsonSchema, names: string[]): JsonSchema {
  const properties = Object.fromEntries(Object.entries(schema.properties ?? {}).filter(([name]) => !names.includes(name)));
  const required = schema.required?.filter((name) => !names.includes(name));
  const { required: _, ...rest } = schema;
  return { ...rest, properties, ...(required?.length ? { required } : {}) };
}
