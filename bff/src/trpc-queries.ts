import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AnyTRPCProcedure, callTRPCProcedure, getTRPCErrorFromUnknown, getTRPCErrorShape, type TRPCError } from '@trpc/server';
import { getHTTPStatusCode } from '@trpc/server/http';
import { type ContextDeps, createContext } from './context.js';
import { directQuery, runDirect } from './direct.js';
import { appRouter } from './routers/index.js';

/**
 * tRPC GET queries, answered without tRPC's Node adapter, in tRPC's own wire format.
 *
 * Why: tRPC v11's Node adapter turns every request into a Fetch `Request` (URL, Headers, an
 * AbortController) and writes a Fetch `Response` back through a web stream. For a cached read that
 * cost more than the read itself (docs/benchmarks.md: the same procedure answered twice as fast
 * through the REST routes).
 *
 * What: a GET of query procedures, one (`/trpc/customers.byId?input=…`) or a batch
 * (`/trpc/a,b?batch=1&input={"0":…,"1":…}`), asking for plain JSON (no `trpc-accept` header, which
 * asks for a streamed answer). Each call goes through tRPC's `callProcedure` with the same context
 * as the adapter's (or, for the plain queries, direct.ts: the same checks in one step), so
 * validation and errors are tRPC's; a failed call's error is shaped
 * by the router's error formatter and the status picked by tRPC's `getHTTPStatusCode`, as the
 * adapter does. Anything else (other methods, mutations, subscriptions, malformed paths or input,
 * streamed answers, connectionParams) is left to the adapter, before anything has run. The router
 * has no data transformer; with one, this would have to apply it (a test compares the bodies). bff/src/trpc-queries.test.ts compares the two.
 */
export function createQueryFastPath(options: {
  deps: ContextDeps;
  /** The headers the adapter's responseMeta adds, for a JSON answer with these errors. */
  headers(errors: TRPCError[]): Record<string, string>;
  /** The adapter's onError. */
  onError(error: TRPCError, path: string, req: IncomingMessage): void;
}) {
  const { deps } = options;
  const procedures = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
  const config = appRouter._def._config;
  const isQuery = (path: string) => procedures[path]?._def.type === 'query';

  /** Resolves true when it answered; false when the adapter must (nothing has been written then). */
  return async function answerQuery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    // Left to the adapter: streamed answers (trpc-accept, or Accept: application/jsonl), a token in
    // connectionParams (the adapter reads it from the query string) and a GET that claims a body.
    if (
      req.method !== 'GET' ||
      req.headers['trpc-accept'] !== undefined ||
      req.headers.accept?.includes('application/jsonl') ||
      req.headers['content-type'] !== undefined ||
      url.searchParams.has('connectionParams')
    )
      return false;
    const batch = url.searchParams.get('batch');
    if (batch !== null && batch !== '1') return false;
    const paths = decodePaths(url.pathname);
    if (!paths?.every(isQuery) || (batch === null && paths.length !== 1)) return false;
    const inputs = readInputs(url.searchParams.get('input'), paths.length, batch === '1');
    if (!inputs) return false;

    const ctx = createContext(deps, req, res, null);
    // By position, as the adapter keeps them (a batch's calls finish in any order).
    const errors: (TRPCError | undefined)[] = new Array(paths.length).fill(undefined);
    const answers = await Promise.all(
      paths.map(async (path, batchIndex) => {
        const input = inputs[batchIndex];
        try {
          const direct = directQuery(path);
          const data = direct
            ? await runDirect(direct, ctx, input, 'trpc')
            : await callTRPCProcedure({
                router: appRouter,
                path,
                getRawInput: async () => input,
                ctx,
                type: 'query',
                signal: undefined,
                batchIndex,
              });
          return { result: { data } };
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          errors[batchIndex] = error;
          options.onError(error, path, req);
          return { error: getTRPCErrorShape({ config, error, type: 'query', path, input, ctx }) };
        }
      }),
    );
    if (res.headersSent || res.destroyed) return true;
    // From here on the procedures have run: never hand over to the adapter (it would run them again).
    try {
      const json = batch === '1' ? answers : answers[0]!;
      const body = JSON.stringify(json);
      res.writeHead(getHTTPStatusCode(json, errors as TRPCError[]), {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        Vary: 'trpc-accept, accept',
        ...options.headers(errors.filter((error) => error !== undefined)),
      });
      res.end(body);
    } catch (err) {
      options.onError(getTRPCErrorFromUnknown(err), paths.join(','), req);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(
        JSON.stringify({
          error: { code: -32603, message: 'internal server error', data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 } },
        }),
      );
    }
    return true;
  };
}

/** `/trpc/customers.byId,orders.list` → the procedure paths, or undefined when malformed. */
function decodePaths(pathname: string): string[] | undefined {
  try {
    const paths = decodeURIComponent(pathname.slice('/trpc/'.length)).split(',');
    return paths.every((path) => /^\w+\.\w+$/.test(path)) ? paths : undefined;
  } catch {
    return undefined;
  }
}

/** The calls' inputs as the adapter reads them, or undefined when the adapter should say what is wrong. */
function readInputs(raw: string | null, count: number, batch: boolean): unknown[] | undefined {
  let parsed: unknown;
  try {
    parsed = raw === null ? undefined : JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!batch) return [parsed];
  if (parsed === undefined) return new Array(count).fill(undefined);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return Array.from({ length: count }, (_, i) => (parsed as Record<string, unknown>)[String(i)]);
}
