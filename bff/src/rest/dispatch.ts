import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@pdash/backend-shared/logger';
import { callTRPCProcedure, getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { MAX_BODY_BYTES } from '../config.js';
import { type ContextDeps, createContext, requestLogFields } from '../context.js';
import { directQuery, runDirect } from '../direct.js';
import type { Endpoint } from '../endpoints.js';
import { logFailure, publicMessage, retryAfterSeconds, toTRPCError } from '../errors.js';
import { appRouter } from '../routers/index.js';
import { serveDocs } from './docs.js';
import { HttpProblem, noRoute, send } from './http.js';
import { openApiDocument } from './openapi.js';
import { IDEMPOTENCY_FIELD, type JsonSchema, matchRoute } from './routes.js';
import { handleTransfer, matchTransfer } from './transfer.js';

/*
 * The REST fallback: API.md's REST routes call the very same procedures (tRPC's callProcedure,
 * as the tRPC fast path does: validation, auth and errors are the same). Written here rather than with
 * trpc-to-openapi, whose error bodies ({message, code, issues}, "Input validation failed") are not
 * API.md's `{error: {code, message}}`.
 */

export type RestEndpoint = Extract<Endpoint, 'rest' | 'openapi' | 'docs'>;

export function createRestHandler(deps: ContextDeps) {
  const openApi = JSON.stringify(openApiDocument());

  /** Answers a request of one of the REST endpoints (endpoints.ts tells which). */
  return async function handleRest(req: IncomingMessage, res: ServerResponse, url: URL, endpoint: RestEndpoint = 'rest') {
    try {
      if (endpoint !== 'rest') {
        if (req.method !== 'GET') throw noRoute(url.pathname);
        if (endpoint === 'openapi') return send(res, 200, openApi, 'application/json');
        return await serveDocs(res, url.pathname);
      }
      const transfer = matchTransfer(url.pathname);
      if (transfer) return await handleTransfer(createContext(deps, req, res), transfer, url);
      const match = matchRoute(req.method, url.pathname);
      if (!match) throw noRoute(url.pathname);
      if (!match.route) {
        throw new HttpProblem(405, 'METHOD_NOT_SUPPORTED', `${req.method} is not supported on ${url.pathname}`, {
          Allow: match.allow.join(', '),
        });
      }
      const { route } = match;
      const params = Object.fromEntries(route.params.map((name, i) => [name, decodePathSegment(name, match.params[i]!)]));
      // Input from the URL only for a GET: a password (or anything else) in a query string ends
      // up in logs along the way, so a mutation that carries one is refused, never run.
      if (route.method !== 'GET' && url.search.length > 1) {
        const [first] = url.searchParams.keys();
        throw new HttpProblem(
          400,
          'BAD_REQUEST',
          `${first ?? 'query'}: ${route.method} takes its input from the JSON body only, never the URL`,
        );
      }
      const body = route.method === 'POST' || route.method === 'PATCH' ? await readJsonBody(req) : {};
      if (route.input?.properties?.[IDEMPOTENCY_FIELD]) takeIdempotencyKey(req, body);
      const input = route.input ? { ...(route.method === 'GET' ? queryInput(url, route.input) : {}), ...body, ...params } : undefined;

      // The procedure itself (its middleware, input and output checks, errors), without a caller's
      // proxy made per request; a plain query in one step (direct.ts).
      const ctx = createContext(deps, req, res);
      const direct = route.method === 'GET' ? directQuery(route.procedure) : undefined;
      const output = direct
        ? await runDirect(direct, ctx, input, 'rest')
        : await callTRPCProcedure({
            router: appRouter,
            path: route.procedure,
            getRawInput: async () => input,
            ctx,
            type: route.method === 'GET' ? 'query' : 'mutation',
            signal: undefined,
            batchIndex: 0,
          });
      send(res, route.status, JSON.stringify(output), 'application/json');
    } catch (err) {
      sendError(res, err, deps.log, req, url);
    }
  };
}

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

function sendError(res: ServerResponse, err: unknown, log: Logger, req: IncomingMessage, url: URL) {
  // A stream (an export) that fails after its status was sent can only be cut short.
  if (res.headersSent) {
    log.warn({ ...requestLogFields(req), path: url.pathname, err }, 'response cut short');
    return void res.destroy();
  }
  if (err instanceof HttpProblem) {
    return send(
      res,
      err.status,
      JSON.stringify({ error: { code: err.code, message: err.message, ...err.details } }),
      'application/json',
      err.headers,
    );
  }
  const error = toTRPCError(err instanceof TRPCError ? err : getTRPCErrorFromUnknown(err));
  const status = getHTTPStatusCodeFromError(error);
  logFailure(log, requestLogFields(req), url.pathname, error);
  const retryAfter = retryAfterSeconds(error);
  send(
    res,
    status,
    JSON.stringify({ error: { code: error.code, message: publicMessage(error) } }),
    'application/json',
    retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) },
  );
}
